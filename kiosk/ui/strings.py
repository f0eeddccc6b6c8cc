"""What the touchscreen itself says, in each language the kiosk offers (the content says the
rest). A missing language falls back to English."""

from __future__ import annotations

LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español", "de": "Deutsch",
                  "it": "Italiano", "nl": "Nederlands", "pt": "Português", "ko": "한국어"}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "invite": "Ask me about the works in this room",
        "invite_touch": "Discover the works in this room",
        "talk": "Tap and ask",
        "browse": "Browse the works",
        "listening": "I'm listening…",
        "speak_now": "Ask your question now",
        "cancel": "Cancel",
        "thinking": "Let me look…",
        "you_asked": "You asked: “{question}”",
        "from_notes": "From the museum's notes on {title}",
        "from_faq": "From the museum's practical information",
        "from_museum": "From the museum",
        "stop": "Stop",
        "replay": "Say it again",
        "ask_another": "Ask another",
        "home": "Start again",
        "did_you_mean": "Did you mean…?",
        "unknown_title": "I don't know that one",
        "instead": "I can tell you about:",
        "heard_nothing": "I didn't hear a question. Tap and ask again, or browse the works.",
        "fault": "Sorry, I can't listen right now. You can still browse the works; "
                 "listening will be back in a moment.",
        "fault_speak": "Sorry, I can't speak right now; the answer is on the screen.",
        "back": "Back",
        "questions": "Questions you can ask",
        "room": "Room {room}",
        "text_size": "Larger text",
        "contrast": "High contrast",
        "slow": "Slower speech",
        "exhibits": "The works",
    },
    "fr": {
        "invite": "Posez-moi une question sur les œuvres de cette salle",
        "invite_touch": "Découvrez les œuvres de cette salle",
        "talk": "Touchez et parlez",
        "browse": "Voir les œuvres",
        "listening": "Je vous écoute…",
        "speak_now": "Posez votre question",
        "cancel": "Annuler",
        "thinking": "Je cherche…",
        "you_asked": "Vous avez demandé : « {question} »",
        "from_notes": "D'après les notes du musée sur {title}",
        "from_faq": "D'après les informations pratiques du musée",
        "from_museum": "Le musée",
        "stop": "Arrêter",
        "replay": "Réécouter",
        "ask_another": "Autre question",
        "home": "Recommencer",
        "did_you_mean": "Vouliez-vous dire…?",
        "unknown_title": "Je ne sais pas répondre à cela",
        "instead": "Je peux vous parler de :",
        "heard_nothing": "Je n'ai pas entendu de question. Touchez pour réessayer, "
                         "ou parcourez les œuvres.",
        "fault": "Désolé, je ne peux pas écouter pour l'instant. Vous pouvez parcourir les "
                 "œuvres ; l'écoute revient dans un instant.",
        "fault_speak": "Désolé, je ne peux pas parler pour l'instant ; la réponse est à l'écran.",
        "back": "Retour",
        "questions": "Questions à poser",
        "room": "Salle {room}",
        "text_size": "Texte plus grand",
        "contrast": "Contraste élevé",
        "slow": "Voix plus lente",
        "exhibits": "Les œuvres",
    },
    "es": {
        "invite": "Pregúnteme por las obras de esta sala",
        "invite_touch": "Descubra las obras de esta sala",
        "talk": "Toque y pregunte",
        "browse": "Ver las obras",
        "listening": "Le escucho…",
        "speak_now": "Haga su pregunta",
        "cancel": "Cancelar",
        "thinking": "Estoy buscando…",
        "you_asked": "Ha preguntado: «{question}»",
        "from_notes": "Según las notas del museo sobre {title}",
        "from_faq": "Según la información práctica del museo",
        "from_museum": "El museo",
        "stop": "Parar",
        "replay": "Repetir",
        "ask_another": "Otra pregunta",
        "home": "Empezar de nuevo",
        "did_you_mean": "¿Quería decir…?",
        "unknown_title": "No sé responder a eso",
        "instead": "Puedo hablarle de:",
        "heard_nothing": "No he oído ninguna pregunta. Toque para volver a intentarlo, "
                         "o vea las obras.",
        "fault": "Lo siento, ahora no puedo escuchar. Puede ver las obras; "
                 "la escucha vuelve en un momento.",
        "fault_speak": "Lo siento, ahora no puedo hablar; la respuesta está en la pantalla.",
        "back": "Volver",
        "questions": "Preguntas que puede hacer",
        "room": "Sala {room}",
        "text_size": "Texto más grande",
        "contrast": "Alto contraste",
        "slow": "Voz más lenta",
        "exhibits": "Las obras",
    },
}


def text(lang: str, key: str, **values: str) -> str:
    """The interface text ``key`` in ``lang`` (English when not translated)."""
    template = TEXTS.get(lang, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values) if values else template


def language_name(lang: str) -> str:
    """The language's own name ("Français"), shown on its button."""
    return LANGUAGE_NAMES.get(lang, lang.upper())
