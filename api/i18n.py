"""The words of the status pages in English and French."""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "fr"]

WORDS: dict[str, dict[Language, str]] = {
    "site_title": {"en": "Order status", "fr": "État des commandes"},
    "broker": {"en": "IT procurement broker", "fr": "Courtier en approvisionnement TI"},
    "switch": {"en": "Français", "fr": "English"},
    "lookup_title": {"en": "Find your order", "fr": "Trouver votre commande"},
    "lookup_label": {"en": "Order number", "fr": "Numéro de commande"},
    "lookup_hint": {
        "en": "For example ORD-2026-000123. You get it when you place the order.",
        "fr": "Par exemple ORD-2026-000123. Il vous est donné lorsque vous passez la commande.",
    },
    "lookup_button": {"en": "Show status", "fr": "Afficher l'état"},
    "weekly_link": {"en": "Weekly order status report", "fr": "Rapport hebdomadaire sur l'état des commandes"},
    "weekly_title": {"en": "Weekly order status report", "fr": "Rapport hebdomadaire sur l'état des commandes"},
    "weekly_intro": {
        "en": "Orders with a change dated in the 7 days up to {day} (the date of the fact: award, delivery, ...).",
        "fr": "Commandes ayant un changement daté des 7 jours précédant le {day}"
        " (date du fait : attribution, livraison, ...).",
    },
    "weekly_missing": {
        "en": "Your order is not listed? Look it up by number, or write to the broker's provisioning service.",
        "fr": "Votre commande n'apparaît pas? Cherchez-la par son numéro"
        " ou écrivez au service d'approvisionnement du courtier.",
    },
    "filter_org": {"en": "Organisation", "fr": "Organisation"},
    "filter_all": {"en": "All organisations", "fr": "Toutes les organisations"},
    "filter_button": {"en": "Filter", "fr": "Filtrer"},
    "no_orders": {"en": "No order changed in this period.", "fr": "Aucune commande n'a changé pendant cette période."},
    "order": {"en": "Order", "fr": "Commande"},
    "organisation": {"en": "Organisation", "fr": "Organisation"},
    "status": {"en": "Status", "fr": "État"},
    "expected": {"en": "Expected delivery", "fr": "Livraison prévue"},
    "delivery": {"en": "Delivery", "fr": "Livraison"},
    "last_change": {"en": "Last change", "fr": "Dernier changement"},
    "placed_on": {"en": "Placed on", "fr": "Passée le"},
    "timeline": {"en": "Timeline", "fr": "Chronologie"},
    "progress": {"en": "Delivery progress", "fr": "Progression de la livraison"},
    "items": {"en": "Items", "fr": "Articles"},
    "province": {"en": "Province or territory", "fr": "Province ou territoire"},
    "ordered": {"en": "Ordered", "fr": "Commandé"},
    "delivered_qty": {"en": "Delivered", "fr": "Livré"},
    "item": {"en": "Item", "fr": "Article"},
    "business_time": {"en": "Date", "fr": "Date"},
    "ledger_time": {"en": "Recorded", "fr": "Enregistré"},
    "event": {"en": "What happened", "fr": "Événement"},
    "not_found_title": {"en": "Order not found", "fr": "Commande introuvable"},
    "not_found": {
        "en": "There is no order with the number {number}. Check the number and try again.",
        "fr": "Il n'y a aucune commande portant le numéro {number}. Vérifiez le numéro et réessayez.",
    },
    "not_scheduled": {"en": "Set at contract award", "fr": "Fixée à l'attribution du contrat"},
    "back": {"en": "Back to the lookup", "fr": "Retour à la recherche"},
    "times_note": {
        "en": "Dates are in Eastern Time (YYYY-MM-DD).",
        "fr": "Les dates sont à l'heure de l'Est (AAAA-MM-JJ).",
    },
    # statuses
    "st_placed": {"en": "Placed", "fr": "Passée"},
    "st_awarded": {"en": "Contract awarded", "fr": "Contrat attribué"},
    "st_partially_delivered": {"en": "Partially delivered", "fr": "Livrée en partie"},
    "st_delivered": {"en": "Delivered", "fr": "Livrée"},
    "st_cancelled": {"en": "Cancelled", "fr": "Annulée"},
    "st_closed": {"en": "Closed", "fr": "Fermée"},
    # lateness
    "late_on_time": {"en": "On time", "fr": "Dans les délais"},
    "late_at_risk": {"en": "At risk", "fr": "À risque"},
    "late_late": {"en": "Late", "fr": "En retard"},
    "late_none": {"en": "Not scheduled", "fr": "Non planifiée"},
    # events
    "ev_OrderPlaced": {"en": "Order placed", "fr": "Commande passée"},
    "ev_NonStandingOfferLinePriced": {
        "en": "Non-standing-offer item priced",
        "fr": "Article hors offre à commandes évalué",
    },
    "ev_Section32Amended": {"en": "Funding commitment updated", "fr": "Engagement de financement mis à jour"},
    "ev_SecurityAssessmentRecorded": {"en": "Security assessment recorded", "fr": "Évaluation de sécurité consignée"},
    "ev_SecurityRiskApproved": {"en": "Security risk approved", "fr": "Risque de sécurité approuvé"},
    "ev_CallUpAwarded": {"en": "Call-up awarded", "fr": "Commande subséquente attribuée"},
    "ev_DeliveryDateRevised": {
        "en": "Delivery date revised (agreed in writing)",
        "fr": "Date de livraison révisée (convenue par écrit)",
    },
    "ev_DeliveryRecorded": {"en": "Delivery received", "fr": "Livraison reçue"},
    "ev_LateDeliveryRebateApplied": {
        "en": "Late-delivery rebate applied",
        "fr": "Rabais pour livraison tardive appliqué",
    },
    "ev_OrderCancelled": {"en": "Order cancelled", "fr": "Commande annulée"},
    "ev_OrderClosed": {"en": "Order closed", "fr": "Commande fermée"},
    "delivered_units": {"en": "{province}: {n} units", "fr": "{province} : {n} unités"},
    "skip": {"en": "Skip to content", "fr": "Passer au contenu"},
    "language": {"en": "Language", "fr": "Langue"},
    # provinces and territories
    "pv_AB": {"en": "Alberta", "fr": "Alberta"},
    "pv_BC": {"en": "British Columbia", "fr": "Colombie-Britannique"},
    "pv_MB": {"en": "Manitoba", "fr": "Manitoba"},
    "pv_NB": {"en": "New Brunswick", "fr": "Nouveau-Brunswick"},
    "pv_NL": {"en": "Newfoundland and Labrador", "fr": "Terre-Neuve-et-Labrador"},
    "pv_NS": {"en": "Nova Scotia", "fr": "Nouvelle-Écosse"},
    "pv_NT": {"en": "Northwest Territories", "fr": "Territoires du Nord-Ouest"},
    "pv_NU": {"en": "Nunavut", "fr": "Nunavut"},
    "pv_ON": {"en": "Ontario", "fr": "Ontario"},
    "pv_PE": {"en": "Prince Edward Island", "fr": "Île-du-Prince-Édouard"},
    "pv_QC": {"en": "Quebec", "fr": "Québec"},
    "pv_SK": {"en": "Saskatchewan", "fr": "Saskatchewan"},
    "pv_YT": {"en": "Yukon", "fr": "Yukon"},
    "new_date": {"en": "new date {day}", "fr": "nouvelle date : {day}"},
    "reason": {"en": "reason: {reason}", "fr": "motif : {reason}"},
    "rs_client_request": {"en": "client request", "fr": "demande du client"},
    "rs_late_delivery": {"en": "late delivery", "fr": "livraison tardive"},
    "rs_missing_justification": {"en": "missing justification or quote", "fr": "justification ou devis manquant"},
    "rs_other": {"en": "other", "fr": "autre"},
}


def translator(language: Language):  # type: ignore[no-untyped-def]
    def t(key: str, **values: object) -> str:
        entry = WORDS.get(key)
        text = entry[language] if entry else key
        return text.format(**values) if values else text

    return t


def pick_language(requested: str | None, accept_language: str | None) -> Language:
    if requested in ("en", "fr"):
        return requested  # type: ignore[return-value]
    if accept_language and accept_language.strip().lower().startswith("fr"):
        return "fr"
    return "en"
