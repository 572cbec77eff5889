"""The interface in French and English: messages, language names and dates.

The language comes from ``?ui=fr|en`` (remembered in a cookie), else the
cookie, else the browser's Accept-Language, else French.
"""

from __future__ import annotations

import datetime as dt

from flask import Request

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
COOKIE = "kiosque_ui"
COOKIE_MAX_AGE = 365 * 24 * 3600

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

LANGUAGE_NAMES = {
    "fr": {"fr": "français", "en": "anglais", "ar": "arabe", "es": "espagnol", "de": "allemand"},
    "en": {"fr": "French", "en": "English", "ar": "Arabic", "es": "Spanish", "de": "German"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "site_tagline": "News search in French and English",
        "skip": "Skip to results",
        "search_label": "Search the news",
        "search_placeholder": "e.g. election",
        "search_button": "Search",
        "suggestions": "Suggestions",
        "suggestions_count": "{n} suggestions, use the up and down arrows",
        "filters": "Filters",
        "apply": "Apply filters",
        "facet_lang": "Language",
        "facet_source": "Source",
        "facet_year": "Year",
        "dates": "Dates",
        "date_from": "From",
        "date_to": "To",
        "clear_filters": "Clear all filters",
        "remove_filter": "Remove filter {name}",
        "sort": "Sort by",
        "sort_relevance": "Relevance",
        "sort_newest": "Newest first",
        "sort_oldest": "Oldest first",
        "results_count_zero": "No results",
        "results_count_one": "1 result",
        "results_count": "{n} results",
        "took": "in {s} s",
        "results": "Results",
        "did_you_mean": "Did you mean:",
        "question_mark": "?",
        "no_results": "No article matches “{q}”.",
        "no_results_filters": "No article matches these filters.",
        "try_without_filters": "Search again without filters",
        "past_last_page": "This page is past the last result.",
        "first_page": "Go to the first page",
        "tips_title": "Search tips",
        "welcome": "Search {n} articles from French and English news.",
        "welcome_empty": "Search French and English news.",
        "pagination": "Pages",
        "previous": "Previous",
        "next": "Next",
        "page_n": "Page {n}",
        "also_reported": "Also reported by:",
        "original": "Original article",
        "lang_badge": "Language: {name}",
        "published": "Published",
        "source": "Source",
        "language": "Language",
        "undated": "undated",
        "story_title": "The same story in other sources",
        "related_title": "Related articles",
        "no_related": "No related article found.",
        "back": "Back to search",
        "switch_to": "Français",
        "switch_label": "Version française",
        "index_missing_title": "The search index is not ready",
        "index_missing": "There is no index to search yet. Build it, then reload this page:",
        "error_title": "Error {status}",
        "not_found": "Nothing here: this page or article does not exist, or no longer does.",
        "bad_request": "This search cannot be run:",
        "home": "Back to the home page",
        "footer": "Kiosque, full-text search of French and English news.",
        "api": "JSON API",
    },
    "fr": {
        "site_tagline": "Recherche dans l'actualité en français et en anglais",
        "skip": "Aller aux résultats",
        "search_label": "Rechercher dans l'actualité",
        "search_placeholder": "ex. élection",
        "search_button": "Rechercher",
        "suggestions": "Suggestions",
        "suggestions_count": "{n} suggestions, utilisez les flèches haut et bas",
        "filters": "Filtres",
        "apply": "Appliquer les filtres",
        "facet_lang": "Langue",
        "facet_source": "Source",
        "facet_year": "Année",
        "dates": "Dates",
        "date_from": "Du",
        "date_to": "Au",
        "clear_filters": "Retirer tous les filtres",
        "remove_filter": "Retirer le filtre {name}",
        "sort": "Trier par",
        "sort_relevance": "Pertinence",
        "sort_newest": "Plus récents d'abord",
        "sort_oldest": "Plus anciens d'abord",
        "results_count_zero": "Aucun résultat",
        "results_count_one": "1 résultat",
        "results_count": "{n} résultats",
        "took": "en {s} s",
        "results": "Résultats",
        "did_you_mean": "Vouliez-vous dire :",
        "question_mark": "\u202f?",
        "no_results": "Aucun article ne correspond à « {q} ».",
        "no_results_filters": "Aucun article ne correspond à ces filtres.",
        "try_without_filters": "Relancer la recherche sans filtres",
        "past_last_page": "Cette page est au-delà du dernier résultat.",
        "first_page": "Aller à la première page",
        "tips_title": "Conseils de recherche",
        "welcome": "Cherchez parmi {n} articles d'actualité en français et en anglais.",
        "welcome_empty": "Cherchez dans l'actualité en français et en anglais.",
        "pagination": "Pages",
        "previous": "Précédente",
        "next": "Suivante",
        "page_n": "Page {n}",
        "also_reported": "Aussi publié par :",
        "original": "Article original",
        "lang_badge": "Langue : {name}",
        "published": "Publié le",
        "source": "Source",
        "language": "Langue",
        "undated": "sans date",
        "story_title": "La même information dans d'autres sources",
        "related_title": "Articles liés",
        "no_related": "Aucun article lié.",
        "back": "Retour à la recherche",
        "switch_to": "English",
        "switch_label": "English version",
        "index_missing_title": "L'index de recherche n'est pas prêt",
        "index_missing": "Il n'y a pas encore d'index. Construisez-le, puis rechargez la page :",
        "error_title": "Erreur {status}",
        "not_found": "Rien ici : cette page ou cet article n'existe pas, ou plus.",
        "bad_request": "Cette recherche ne peut pas être lancée :",
        "home": "Retour à l'accueil",
        "footer": "Kiosque, recherche plein texte dans l'actualité en français et en anglais.",
        "api": "API JSON",
    },
}

TIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("vote count", "articles with the most of the words come first; accents and plurals "
                       "are optional"),
        ('"exact phrase"', "words side by side (« guillemets » work too)"),
        ("-word", "leaves out the articles that contain it"),
        ("vote AND count", "both words; OR for either one"),
        ("title:Macron", "in the title only"),
        ('source:"Le Monde"  lang:fr', "one source, one language"),
        ("date:2017  date:2016..2018", "a year, a month (2017-05) or a range"),
        ("elect*  electoin~", "every word that starts so; a misspelled word"),
    ),
    "fr": (
        ("vote résultats", "les articles qui contiennent le plus de ces mots d'abord ; accents "
                           "et pluriels facultatifs"),
        ("« expression exacte »", 'des mots côte à côte ("guillemets droits" aussi)'),
        ("-mot", "écarte les articles qui le contiennent"),
        ("vote ET résultats", "les deux mots ; OU pour l'un ou l'autre"),
        ("titre:Macron", "dans le titre seulement"),
        ('source:"Le Monde"  lang:en', "une source, une langue"),
        ("date:2017  date:2016..2018", "une année, un mois (2017-05) ou une période"),
        ("élect*  élecion~", "tous les mots qui commencent ainsi ; un mot mal orthographié"),
    ),
}


def choose_language(request: Request) -> str:
    """The interface language: ``?ui=``, else the cookie, else Accept-Language, else French."""
    for candidate in (request.args.get("ui"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (English when missing), with ``{values}`` filled in."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["en"].get(key, key)
    return text.format(**values) if values else text


def format_date(value: dt.date | str | None, lang: str) -> str:
    """``20 avril 2022`` in French (``1er`` for the first), ``April 20, 2022`` in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    month = MONTHS["fr" if lang == "fr" else "en"][value.month - 1]
    if lang == "fr":
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {month} {value.year}"
    return f"{month} {value.day}, {value.year}"


def format_number(value: int, lang: str) -> str:
    """``12 345`` (narrow no-break space) in French, ``12,345`` in English."""
    text = f"{value:,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def format_seconds(seconds: float, lang: str) -> str:
    """``0,012`` in French, ``0.012`` in English."""
    text = f"{seconds:.3f}"
    return text.replace(".", ",") if lang == "fr" else text


def language_name(code: str, lang: str) -> str:
    """``français`` / ``French`` for ``fr``; unknown codes as written, upper case."""
    return LANGUAGE_NAMES.get(lang, {}).get(code, code.upper())
