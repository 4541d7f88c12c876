package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// The dashboard: pages and static files embedded in the binary, served on
// every listener beside Burrow's routes. Its paths cannot collide with
// Burrow's: the exact path "/" (every other unknown path stays the catch-all),
// and paths under /ui/. Pages and files are read-only and public; the data
// comes from the read-only JSON routes under /ui/api/ (ui_api.go), so a page
// never needs the mutating routes' token.

//go:embed ui
var uiFiles embed.FS

// uiPages are the dashboard's pages: their paths and files.
var uiPages = map[string]string{
	"/":           "index.html",
	"/ui/group":   "group.html",
	"/ui/cluster": "cluster.html",
}

// uiAsset is one file as it is served.
type uiAsset struct {
	body  []byte
	ctype string
	etag  string
	cache string
	gz    []byte // body gzipped once, when that is worth it; nil otherwise
}

// newAsset builds an asset, gzipping a body of the size that replies are
// compressed from.
func newAsset(body []byte, ctype, cache string) *uiAsset {
	sum := sha256.Sum256(body)
	a := &uiAsset{body: body, ctype: ctype, cache: cache, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if len(body) >= defaultGzipMin {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		a.gz = buf.Bytes()
	}
	return a
}

// uiAssets is the dashboard's files, built once: pages by path, static
// files by their hashed name (app.js as app.1a2b3c4d5e6f.js), so that a
// static file can be cached for good and a new binary's pages name new ones.
type uiAssetSet struct {
	pages  map[string]*uiAsset
	static map[string]*uiAsset
	// names maps a static file's name to its hashed name.
	names map[string]string
}

var uiAssets = sync.OnceValue(func() *uiAssetSet {
	set := &uiAssetSet{pages: map[string]*uiAsset{}, static: map[string]*uiAsset{}, names: map[string]string{}}
	entries, err := fs.ReadDir(uiFiles, "ui")
	if err != nil {
		panic("httpapi: embedded dashboard files: " + err.Error()) // a build without them
	}
	var replace []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".html") {
			continue
		}
		b, _ := uiFiles.ReadFile("ui/" + name)
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		set.names[name] = hashed
		set.static[hashed] = newAsset(b, mime.TypeByExtension(ext), "public, max-age=31536000, immutable")
		replace = append(replace, "/ui/static/"+name, "/ui/static/"+hashed)
	}
	r := strings.NewReplacer(replace...)
	for p, name := range uiPages {
		b, err := uiFiles.ReadFile("ui/" + name)
		if err != nil {
			panic("httpapi: embedded dashboard page " + name + ": " + err.Error())
		}
		set.pages[p] = newAsset([]byte(r.Replace(string(b))), "text/html; charset=utf-8", "no-cache")
	}
	return set
})

// uiPolicy is the Content-Security-Policy of the pages: only this server's
// own scripts, styles and data, no inline script, so that a name that got
// past the escaping could still run nothing.
const uiPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// serveAsset writes a, or 304 when the client holds it already.
func serveAsset(w http.ResponseWriter, r *http.Request, a *uiAsset) {
	h := w.Header()
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(a.ctype, "text/html") {
		h.Set("Content-Security-Policy", uiPolicy)
		h.Set("Referrer-Policy", "no-referrer")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.ctype)
	body := a.body
	if a.gz != nil {
		vary(h)
		if acceptsGzip(r) {
			body = a.gz
			h["Content-Encoding"] = gzipEncoding
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// etagMatch says whether an If-None-Match header names etag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// uiPage serves the page of path p.
func uiPage(p string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, uiAssets().pages[p])
	}
}

// uiStatic serves a static file by its hashed name; any other name is the
// catch-all.
func uiStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := uiAssets().static[r.PathValue("file")]
	if !ok {
		notFound(w)
		return
	}
	serveAsset(w, r, a)
}

// uiRoutes are the dashboard's routes, all GET.
func (s *Server) uiRoutes() []routeEntry {
	table := []routeEntry{{"/ui/static/{file}", route{"GET": uiStatic}}}
	for p := range uiPages {
		pattern := p
		if p == "/" {
			pattern = "/{$}" // the root only: everything else stays the catch-all
		}
		table = append(table, routeEntry{pattern, route{"GET": uiPage(p)}})
	}
	return append(table,
		routeEntry{"/ui/api/overview", route{"GET": s.uiOverview}},
		routeEntry{"/ui/api/group", route{"GET": s.uiGroup}},
		routeEntry{"/ui/api/cluster", route{"GET": s.uiCluster}},
	)
}

// uiHashed returns the hashed name of a static file, for tests.
func uiHashed(name string) string { return uiAssets().names[name] }
