"""Where cross-origin redirects point (another port on loopback is another origin). A
correct daemon never sends it anything: not a provider probe, not a sink's POST."""

from fake_http import Handler, serve


class OtherOriginHandler(Handler):
    def record(self):
        raw = self.body() if self.command == "POST" else b""
        headers = "\n".join("%s: %s" % kv for kv in self.headers.items())
        self.server.owner.requests.append((self.command, self.path, headers, raw))
        self.answer(200, b'{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"1.00"}]}')

    do_GET = record
    do_POST = record


class OtherOrigin:
    """Where cross-origin redirects point. A correct daemon never sends it anything."""

    def __init__(self):
        self.requests = []
        self.server = serve(OtherOriginHandler, self)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
