package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// routeEntry is a path pattern of Go's ServeMux and its handlers.
type routeEntry struct {
	pattern string
	h       route
}

// router is the ServeMux of the routes, with the original router's treatment
// of paths that are not clean (doubled slashes, "." and ".." segments), which
// ServeMux answers with a redirect of its own:
//   - a path whose empty segments stand where a route has parameters (for
//     example /v3/kafka//topic) is that route, with empty values: the route's
//     own 404 ("cluster not found");
//   - any other gets 301 (GET) or 307 (other methods) to the cleaned path,
//     as the original answers; the cleaned path may then be the catch-all.
type router struct {
	mux     *http.ServeMux
	params  []paramRoute
	origins origins
}

// paramRoute is a route as segments, "{name}" standing for a parameter.
type paramRoute struct {
	segments []string
	h        route
}

func newRouter(table []routeEntry, o origins) *router {
	rt := &router{mux: http.NewServeMux(), origins: o}
	rt.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { notFound(w) }))
	for _, e := range table {
		rt.mux.Handle(e.pattern, e.h)
		if e.pattern == "/{$}" {
			continue // the root has no segments to fill
		}
		rt.params = append(rt.params, paramRoute{segments: strings.Split(e.pattern[1:], "/"), h: e.h})
	}
	return rt
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The escaped path, so that an encoded slash (%2F) is not taken for a
	// separator: ServeMux matches on it too.
	p := r.URL.EscapedPath()
	if p == "" || p[0] != '/' || p == "*" {
		notFound(w)
		return
	}
	cleaned := path.Clean(p)
	if strings.HasSuffix(p, "/") && cleaned != "/" {
		cleaned += "/"
	}
	if cleaned == p {
		if r.Method == http.MethodOptions && len(rt.origins) > 0 {
			if h, ok := rt.handler(r); ok && rt.origins.preflight(w, r, h) {
				return
			}
		}
		rt.origins.allowOrigin(w, r)
		rt.mux.ServeHTTP(w, r)
		return
	}
	if rt.serveEmptyParams(w, r, p) {
		return
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet {
		code = http.StatusTemporaryRedirect
	}
	to := cleaned
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, code)
}

// handler returns the route of a clean path, if it has one.
func (rt *router) handler(r *http.Request) (route, bool) {
	h, _ := rt.mux.Handler(r)
	h2, ok := h.(route)
	return h2, ok
}

// serveEmptyParams serves r when its path, taken segment by segment, is a
// route whose parameters may be empty. Only a path with an empty segment and
// no "." or ".." segment can be one; its literal segments must match exactly.
func (rt *router) serveEmptyParams(w http.ResponseWriter, r *http.Request, escaped string) bool {
	segs := strings.Split(escaped[1:], "/")
	for _, s := range segs {
		if s == "." || s == ".." {
			return false
		}
	}
next:
	for _, pr := range rt.params {
		if len(pr.segments) != len(segs) {
			continue
		}
		for i, s := range pr.segments {
			if !isParam(s) && s != segs[i] {
				continue next
			}
		}
		for i, s := range pr.segments {
			if isParam(s) {
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					return false
				}
				r.SetPathValue(s[1:len(s)-1], v)
			}
		}
		pr.h.ServeHTTP(w, r)
		return true
	}
	return false
}

func isParam(segment string) bool {
	return strings.HasPrefix(segment, "{") && strings.HasSuffix(segment, "}")
}
