"""Components the tabs share."""

from __future__ import annotations

import gradio as gr


class Picker(gr.Dropdown):
    """A dropdown that offers only its choices in the browser and leaves name checks to the services.

    Its choices change while the page is open (the live refresh), and scripted clients never see those
    updates, so the server does not reject a value that is not among the choices it was built with: the
    service it is passed to refuses unknown names in the user's language instead.
    """

    # Drawn by the frontend's own dropdown. No __init__ of its own: Gradio reads the config from the
    # constructor's signature, and allow_custom_value already defaults to False there.
    is_template = True

    def preprocess(self, payload):
        """The chosen value(s) as sent; membership is checked by the service that uses them."""
        if payload is None or self.type == "value":
            return payload
        return super().preprocess(payload)


class ChoiceOrTyped(gr.Dropdown):
    """A dropdown offering workspace data (model folders, hub ids, checkpoints) that also takes a typed value."""

    is_template = True
