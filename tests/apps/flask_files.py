"""Flask upload and download: `spawning tests.apps.flask_files:app`, files
kept in $FLASK_FILES_DIR.

POST /upload (multipart, field "file") saves the file and answers JSON
{"name", "size", "sha256"}; GET /download/NAME sends it back (send_file).
"""
import hashlib
import os

from flask import Flask, abort, jsonify, request, send_file
from werkzeug.utils import secure_filename

app = Flask(__name__)


def _dir():
    return os.environ["FLASK_FILES_DIR"]


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files.get("file")
    if f is None:
        abort(400)
    name = secure_filename(f.filename) or "upload"
    path = os.path.join(_dir(), name)
    f.save(path)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as saved:
        for chunk in iter(lambda: saved.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return jsonify(name=name, size=size, sha256=digest.hexdigest())


@app.route("/download/<name>")
def download(name):
    path = os.path.join(_dir(), secure_filename(name))
    if not os.path.isfile(path):
        abort(404)
    return send_file(path, as_attachment=True)
