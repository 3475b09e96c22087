from autoenv.render.posix import PosixShell


class Renderer(PosixShell):
    name = "zsh"
    snippet_suffix = "zsh"
