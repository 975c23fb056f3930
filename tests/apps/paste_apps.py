"""PasteDeploy app factories for tests/bats/paste.bats
(`use = call:tests.apps.paste_apps:make_app`)."""


def make_app(global_conf, greeting="hello", **local_conf):
    who = global_conf.get("who", "nobody")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s %s\n" % (greeting, who)).encode()]
    return app
