"""A customer's website for the snippet tests, on its own port (so its own origin).

The seeds' journey: a landing page reached through a campaign link, a contact
form, a thank-you page after the form's POST (redirected, as real sites do).
Pages include the snippet from the collector under test; `collector` can be
changed between pages to move the site to another server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

SNIPPET = '<script src="{collector}/js/percorso.js" data-write-key="{key}" async></script>'

PAGES: dict[str, str] = {
    "/landing.html": """<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Offerta di primavera</title>{snippet}</head><body>
<h1>Offerta di primavera</h1>
<a id="to-form" href="/form.html">Richiedi un preventivo</a>
</body></html>""",
    "/form.html": """<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Richiedi un preventivo</title>{snippet}</head><body>
<form id="preventivo" method="post" action="/thanks">
  <input type="hidden" name="csrf_token" value="hidden-secret-123">
  <input type="email" name="email" placeholder="Email">
  <input type="text" name="first_name"><input type="text" name="last_name">
  <input type="tel" name="phone">
  <input type="password" name="password">
  <input type="text" name="card_number">
  <input type="text" name="company">
  <textarea name="message"></textarea>
  <input type="checkbox" name="privacy" value="yes">
  <button id="send" type="submit">Invia</button>
</form>
<form id="search" method="get" action="/thanks.html" data-percorso-ignore>
  <input type="email" name="q"><button id="search-send" type="submit">Cerca</button>
</form>
</body></html>""",
    "/thanks.html": """<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Grazie</title>{snippet}</head><body><h1>Grazie, ti ricontatteremo</h1></body></html>""",
    # Calls made before the script loads: the documented stub, both styles.
    "/queued.html": """<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Coda</title>
<script>
!function(){{var p=window.percorso=window.percorso||[];["track","identify","page","reset"].forEach(function(m){{p[m]=p[m]||function(){{p.push([m].concat([].slice.call(arguments)))}}}})}}();
percorso.identify("cliente-42", {{"plan": "pro"}});
percorso.push(["track", "Video Played", {{"title": "Chi siamo"}}]);
</script>
<script src="/static/percorso.js" data-host="{collector}" data-write-key="{key}" async></script>
</head><body><h1>Coda</h1></body></html>""",
    "/private.html": """<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Privacy</title>
<script src="{collector}/js/percorso.js" data-write-key="{key}" data-respect-dnt="true"></script>
</head><body><h1>Privacy</h1></body></html>""",
}


class Site:
    """A running test site; `url(path)` gives an absolute address on it."""

    def __init__(self, collector: str, write_key: str) -> None:
        self.collector = collector
        self.write_key = write_key
        self.posted: list[bytes] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows the assertions, not an access log."""

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/static/percorso.js":
                    # A site that hosts the script itself and points data-host at the collector.
                    script = (files("percorso.app.web") / "static" / "percorso.js").read_bytes()
                    self._send(200, script, "application/javascript")
                    return
                if path not in PAGES:
                    self._send(404, b"not found", "text/plain")
                    return
                snippet = SNIPPET.format(collector=site.collector, key=site.write_key)
                html = PAGES[path].format(
                    snippet=snippet, collector=site.collector, key=site.write_key
                )
                self._send(200, html.encode(), "text/html; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                site.posted.append(self.rfile.read(length))
                # Post/redirect/get, as a real form backend answers.
                self.send_response(303)
                self.send_header("Location", "/thanks.html")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    @contextmanager
    def running(self) -> Iterator[Site]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)
