"""Templates compiled once for each language, with their fixed sentences already translated.

Most of a page is sentences with nothing put into them: ``{{ _("Your request") }}``. Looked up
while the page renders, each costs a call through Jinja's runtime, the catalogue's look-up and a
``Markup``, dozens of times a page, every page. Here each template is compiled once for each
language it is read in, and such a sentence is translated while compiling: it becomes part of the
page's fixed text, as if the template had been written in that language. The result is the same
as the look-up gives (the catalogue's text, trusted as the template's own, marked safe where the
template escapes). A sentence with values put into it is translated while compiling too, and only
formatted while rendering (escaping and isolating what is put in, as :func:`_newstyle` does).

Nothing else changes: the templates are the same files (``pybabel extract`` reads them as
before), ``_`` is still there for a sentence that is not a literal, and a template read without a
request (an e-mail, a test) is compiled for the language its reader has there. The templates of a
language are kept as Jinja keeps any template (its cache, reloaded on change where Flask reloads).
"""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from contextvars import ContextVar
from gettext import NullTranslations
from typing import Any
from typing import cast

from flask.templating import Environment
from jinja2 import Template
from jinja2 import nodes
from jinja2.visitor import NodeTransformer

from ..config import SUPPORTED_LANGUAGES
from . import texts

# The catalogue a template is being compiled for, while its source is parsed.
_COMPILING: ContextVar[NullTranslations | None] = ContextVar("rra_compiling", default=None)

# The names a template calls for a sentence with nothing but a literal in it.
_GETTEXT = frozenset({"_", "gettext"})

# What a sentence with values in it calls once translated (see the app's ``_translated``).
TRANSLATED = "_translated"


class TranslatedEnvironment(Environment):
    """Flask's template environment, keeping one compiled template per name and language."""

    def __init__(self, app: Any, **options: Any) -> None:
        # Room for every template in every language, as Jinja's default keeps 400 of one.
        options.setdefault("cache_size", 400 * len(SUPPORTED_LANGUAGES))
        super().__init__(app, **options)

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        # As Jinja's own (3.1), with the reader's language in the key, and the catalogue at hand
        # while the template is compiled.
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        reader = texts.reader()
        key = (weakref.ref(self.loader), name, reader.language)
        # Jinja's cache is typed for its own two-part keys; any hashable key is kept the same.
        cache = cast("MutableMapping[Any, Template] | None", self.cache)
        if cache is not None:
            template: Template | None = cache.get(key)
            if template is not None and (not self.auto_reload or template.is_up_to_date):
                if globals:
                    template.globals.update(globals)
                return template
        token = _COMPILING.set(reader.translations)
        try:
            template = self.loader.load(self, name, self.make_globals(globals))
        finally:
            _COMPILING.reset(token)
        if cache is not None:
            cache[key] = template
        return template

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        translations = _COMPILING.get()
        if translations is None:  # a template made from a string: looked up as it renders
            return tree
        result: nodes.Template = _Translate(translations).visit(tree)
        return result


class _Translate(NodeTransformer):
    """``_("literal")`` becomes the translated text; ``_("literal %(x)s", x=...)`` a call that
    only formats the translated text."""

    def __init__(self, translations: NullTranslations) -> None:
        self.translations = translations

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        self.generic_visit(node)  # a sentence inside another call's values, too
        callee = node.node
        if not (
            isinstance(callee, nodes.Name)
            and callee.name in _GETTEXT
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        text = self.translations.gettext(node.args[0].value)
        if not node.kwargs and "%" not in text:
            return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)
        return nodes.Call(
            nodes.Name(TRANSLATED, "load", lineno=node.lineno),
            [nodes.Const(text, lineno=node.lineno)],
            node.kwargs,
            None,
            None,
            lineno=node.lineno,
        )
