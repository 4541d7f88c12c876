package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// origins is a listener's cross-origin policy: the browser origins of its
// allowed-origins key. Reads stay as in Burrow (general.access-control-allow-
// origin is sent verbatim); the routes that change state refuse requests from
// pages of other sites unless their origin is allowed, whatever the
// mutating-routes mode, because a browser sends a "simple" cross-site POST
// (text/plain, no pre-flight) with the user's network position.
type origins map[string]bool

func newOrigins(list []string) origins {
	o := origins{}
	for _, s := range list {
		o[strings.ToLower(s)] = true
	}
	return o
}

func (o origins) allows(origin string) bool { return origin != "" && o[strings.ToLower(origin)] }

// crossSite says why r comes from a page of another site that the listener
// does not allow, or "" when it does not. Requests without browser headers
// (curl, scripts, Burrow's clients) are not cross-site.
func (o origins) crossSite(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if o.allows(origin) {
		return ""
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "sent by a page of another site"
	}
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return "origin " + origin + " is not this server nor one of allowed-origins"
	}
	return ""
}

// simpleBody says whether a request body has a content type that a page of
// any site may send without a pre-flight and that no Burrow client sends.
func simpleBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	return mt == "text/plain" || mt == "multipart/form-data"
}

// preflight answers a CORS pre-flight from an allowed origin for a route with
// the given methods; it returns false for any other OPTIONS request.
func (o origins) preflight(w http.ResponseWriter, r *http.Request, rt route) bool {
	origin := r.Header.Get("Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" || !o.allows(origin) {
		return false
	}
	h := w.Header()
	h.Set("Allow", rt.allow())
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", rt.allow())
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	w.WriteHeader(http.StatusOK)
	return true
}

// allowOrigin marks the response of a request from an allowed origin as
// readable by that origin.
func (o origins) allowOrigin(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); o.allows(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
}
