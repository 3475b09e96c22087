from autoenv.render.base import Shell


def fish_quote(value):
    """Fish single quotes: only ``\\`` and ``'`` are special inside them."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Renderer(Shell):
    name = "fish"
    snippet_suffix = "fish"

    def quote(self, value):
        return fish_quote(value)

    def export(self, name, value):
        return "set -gx %s %s;" % (name, self.quote(value))

    def unset(self, name):
        return "set -e %s;" % name

    def set_path(self, entries):
        # fish keeps PATH as a list; one element per entry, never a joined string.
        return " ".join(["set -gx PATH"] + [self.quote(e) for e in entries]) + ";"

    def set_local(self, name, value):
        return "set -g %s %s;" % (name, self.quote(value))

    def set_local_list(self, name, values):
        return " ".join(["set -g", name] + [self.quote(v) for v in values]) + ";"

    def call(self, function, *args):
        return " ".join([function] + [self.quote(a) for a in args]) + ";"
