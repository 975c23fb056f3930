#!/usr/bin/python3
"""Plays systemd's side of sd_notify(3) for the tests: binds a datagram
socket at PATH and appends every notification it receives to OUT as one
line, its newlines shown as '|'.

usage: sd_notify_listener.py PATH OUT"""
import socket
import sys

path, out_path = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
with open(out_path, "a") as out:
    while True:
        data = sock.recv(4096)
        out.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
        out.flush()
