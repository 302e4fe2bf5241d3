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
    # contracts dashboard
    "contracts_link": {
        "en": "Contracts dashboard: capacity and renewals",
        "fr": "Tableau de bord des contrats : capacité et renouvellements",
    },
    "contracts_title": {"en": "Contracts dashboard", "fr": "Tableau de bord des contrats"},
    "contracts_intro": {
        "en": "How much of each contract's ceiling is used (consumption and reservations), when it runs out"
        " at the rate of the last 90 days, and when it must be renewed. As of {day}.",
        "fr": "La part du plafond de chaque contrat qui est utilisée (consommation et réservations), la date"
        " à laquelle il sera épuisé au rythme des 90 derniers jours et la date à laquelle il doit être"
        " renouvelé. En date du {day}.",
    },
    "contracts_heading": {"en": "Contracts", "fr": "Contrats"},
    "contracts_caption": {
        "en": "Contracts by expiry date: share of the ceiling used and key dates",
        "fr": "Contrats par date d'échéance : part du plafond utilisée et dates clés",
    },
    "no_contracts": {"en": "No contract is registered.", "fr": "Aucun contrat n'est enregistré."},
    "contract": {"en": "Contract", "fr": "Contrat"},
    "supplier": {"en": "Supplier", "fr": "Fournisseur"},
    "kind": {"en": "Type", "fr": "Type"},
    "used_pct": {"en": "Ceiling used", "fr": "Plafond utilisé"},
    "burn_down": {"en": "Capacity left over time", "fr": "Capacité restante dans le temps"},
    "start_date": {"en": "Start", "fr": "Début"},
    "expires_on": {"en": "Expires on", "fr": "Échéance"},
    "original_end": {"en": "Initial end date", "fr": "Date de fin initiale"},
    "next_decision": {"en": "Next renewal decision", "fr": "Prochaine décision de renouvellement"},
    "no_decision": {"en": "None due", "fr": "Aucune"},
    "options_left": {"en": "Renewal options left", "fr": "Options de renouvellement restantes"},
    "no_options": {"en": "None", "fr": "Aucune"},
    "forecast": {"en": "Forecast exhaustion", "fr": "Épuisement prévu"},
    "not_burning": {"en": "Not being consumed", "fr": "Aucune consommation récente"},
    "before_expiry": {"en": "before expiry", "fr": "avant l'échéance"},
    "calendar_title": {"en": "Renewal calendar", "fr": "Calendrier des renouvellements"},
    "calendar_intro": {
        "en": "Renewal decisions (due 120, 90 and 30 days before expiry) and expiries of active contracts"
        " from {day} to {horizon}.",
        "fr": "Décisions de renouvellement (à prendre 120, 90 et 30 jours avant l'échéance) et échéances"
        " des contrats actifs du {day} au {horizon}.",
    },
    "calendar_caption": {
        "en": "Renewal decisions and expiries in the next 180 days, by date",
        "fr": "Décisions de renouvellement et échéances des 180 prochains jours, par date",
    },
    "calendar_empty": {
        "en": "No contract expires and no renewal decision is due in the next 180 days.",
        "fr": "Aucun contrat ne prend fin et aucune décision de renouvellement n'est due dans les 180 prochains jours.",
    },
    "cal_date": {"en": "Date", "fr": "Date"},
    "cal_what": {"en": "What is due", "fr": "Événement"},
    "cal_decision": {
        "en": "Renewal decision due ({days} days before expiry)",
        "fr": "Décision de renouvellement à prendre ({days} jours avant l'échéance)",
    },
    "cal_expiry": {"en": "Contract expires", "fr": "Fin du contrat"},
    "kd_standing_offer": {"en": "Standing offer", "fr": "Offre à commandes"},
    "kd_supply_arrangement": {"en": "Supply arrangement", "fr": "Arrangement en matière d'approvisionnement"},
    "kd_call_up": {"en": "Call-up", "fr": "Commande subséquente"},
    "kd_inventory": {"en": "Inventory", "fr": "Inventaire"},
    "kd_cloud": {"en": "Cloud services", "fr": "Services infonuagiques"},
    "cs_active": {"en": "Active", "fr": "Actif"},
    "cs_expired": {"en": "Expired", "fr": "Échu"},
    "cs_terminated": {"en": "Terminated", "fr": "Résilié"},
    # the burn-down chart
    "chart_title": {"en": "Remaining capacity of {id}", "fr": "Capacité restante de {id}"},
    "chart_left": {"en": "{left} of the ceiling left", "fr": "{left} du plafond restant"},
    "chart_forecast": {"en": "at the current rate exhausted on {day}", "fr": "au rythme actuel, épuisé le {day}"},
    "chart_exhausted": {"en": "no capacity left", "fr": "aucune capacité restante"},
    "chart_steady": {
        "en": "nothing consumed in the last 90 days",
        "fr": "aucune consommation dans les 90 derniers jours",
    },
    "chart_committed": {
        "en": "{pct} reserved by orders not yet awarded",
        "fr": "{pct} réservé par des commandes pas encore attribuées",
    },
    "chart_expires": {"en": "expires on {day}", "fr": "prend fin le {day}"},
    "axis_left": {"en": "Capacity left (% of ceiling)", "fr": "Capacité restante (% du plafond)"},
    "axis_date": {"en": "Date", "fr": "Date"},
    "today": {"en": "Today", "fr": "Aujourd'hui"},
    "expiry_short": {"en": "Expiry", "fr": "Échéance"},
    "used_short": {"en": "{pct} used", "fr": "{pct} utilisé"},
    "legend": {"en": "How to read the chart", "fr": "Comment lire le graphique"},
    "legend_actual": {
        "en": "Solid line: capacity left after consumption",
        "fr": "Ligne continue : capacité restante après consommation",
    },
    "legend_forecast": {
        "en": "Dashed line: forecast at the rate of the last 90 days",
        "fr": "Ligne tiretée : prévision au rythme des 90 derniers jours",
    },
    "legend_committed": {
        "en": "Thick bar at today: reserved by orders not yet awarded",
        "fr": "Barre épaisse à aujourd'hui : réservé par des commandes pas encore attribuées",
    },
    "legend_thresholds": {
        "en": "Dotted lines: {a}, {b} and {c} of the ceiling used",
        "fr": "Lignes pointillées : {a}, {b} et {c} du plafond utilisé",
    },
    "legend_days": {
        "en": "Vertical lines: today (short dashes) and expiry (long dashes)",
        "fr": "Lignes verticales : aujourd'hui (tirets courts) et échéance (tirets longs)",
    },
    # one contract
    "capacity_heading": {"en": "Capacity", "fr": "Capacité"},
    "thresholds_heading": {"en": "Capacity thresholds", "fr": "Seuils de capacité"},
    "thresholds_caption": {
        "en": "Thresholds of the ceiling used, and whether they were reached",
        "fr": "Seuils d'utilisation du plafond et s'ils ont été atteints",
    },
    "threshold": {"en": "Threshold", "fr": "Seuil"},
    "reached": {"en": "Reached", "fr": "Atteint"},
    "not_reached": {"en": "Not reached", "fr": "Non atteint"},
    "stock_heading": {"en": "Inventory stock", "fr": "Stock de l'inventaire"},
    "stock_caption": {"en": "Units available per item", "fr": "Unités disponibles par article"},
    "sku": {"en": "Item (SKU)", "fr": "Article (UGS)"},
    "available": {"en": "Available", "fr": "Disponible"},
    "initial_qty": {"en": "Initial quantity", "fr": "Quantité initiale"},
    "withdrawn": {"en": "Withdrawn", "fr": "Retiré"},
    "still_offered": {"en": "Offered", "fr": "Offert"},
    "no_stock": {"en": "This contract holds no inventory.", "fr": "Ce contrat ne comporte aucun inventaire."},
    "renewals_heading": {"en": "Renewal options", "fr": "Options de renouvellement"},
    "renewals_caption": {
        "en": "Renewal options and whether they were exercised",
        "fr": "Options de renouvellement et leur levée",
    },
    "option": {"en": "Option", "fr": "Option"},
    "length": {"en": "Length", "fr": "Durée"},
    "months_n": {"en": "{n} months", "fr": "{n} mois"},
    "exercised": {"en": "Exercised", "fr": "Levée"},
    "not_exercised": {"en": "Not exercised", "fr": "Non levée"},
    "no_renewal_options": {
        "en": "This contract has no renewal option.",
        "fr": "Ce contrat n'a aucune option de renouvellement.",
    },
    "back_contracts": {"en": "Back to the contracts dashboard", "fr": "Retour au tableau de bord des contrats"},
    "options_left_short": {"en": "Options left", "fr": "Options restantes"},
    "list_sep": {"en": "; ", "fr": " ; "},
    "contract_not_found_title": {"en": "Contract not found", "fr": "Contrat introuvable"},
    "contract_not_found": {
        "en": "There is no contract {id}. Check the number and try again.",
        "fr": "Il n'y a aucun contrat {id}. Vérifiez le numéro et réessayez.",
    },
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
