# Functions whose names and files are attacker-controlled strings: markup, script-closing
# sequences, control characters and emoji. Each hostile function burns CPU in turn.
import sys

HOSTILE = [
    ("<img src=x onerror=alert(1)>", "<script>alert('file')</script>.py"),
    ('"]]></script><script>alert(2)</script>', '"]]></script>.py'),
    ("ctrl\x01\x07\x1b[31mred\x7f", "/tmp/ctrl\x1b]0;title\x07.py"),
    ("fire_\U0001F525_\u202eevil", "/srv/\U0001F525/emoji_\u00e9.py"),
]

BODY = "def {name}():\n    total = 0\n    for i in range(20000):\n        total += i\n    return total\n"


def make(index, name, filename):
    # Compile under a crafted file name, then give the code object the crafted name.
    namespace = {}
    exec(compile(BODY.format(name="hostile_%d" % index), filename, "exec"), namespace)
    fn = namespace["hostile_%d" % index]
    code = fn.__code__
    if hasattr(code, "replace"):
        fields = {"co_name": name}
        if sys.version_info >= (3, 11):
            fields["co_qualname"] = name
        code = code.replace(**fields)
    fn.__code__ = code
    return fn


def main():
    functions = [make(i, name, filename) for i, (name, filename) in enumerate(HOSTILE)]
    print("ready", flush=True)
    while True:
        for fn in functions:
            fn()


main()
