# A stand-in that makes `import gevent` fail, for the test of the error a
# user gets when green mode is asked for without gevent installed.
raise ImportError("No module named 'gevent' (test stand-in)")
