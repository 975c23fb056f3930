"""A small Flask app: `spawning tests.apps.flask_app:app`."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask\n"


@app.route("/json/<name>")
def json_name(name):
    return jsonify(name=name, args=request.args.to_dict())


@app.route("/echo", methods=["POST"])
def echo():
    return request.get_data(), 200, {"Content-Type": "application/octet-stream"}


@app.route("/stream")
def stream():
    def gen():
        for i in range(3):
            yield "part-%d\n" % i
    return app.response_class(gen(), mimetype="text/plain")
