"""The words of the status pages in English and French."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

Language = Literal["en", "fr"]

WORDS: dict[str, dict[Language, str]] = {
    "site_title": {"en": "Status and reports", "fr": "État et rapports"},
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
    # chargeback statements (not public: signed in with an API key)
    "cb_site": {"en": "Chargeback statements", "fr": "Relevés de rétrofacturation"},
    "cb_statement": {"en": "Chargeback statement", "fr": "Relevé de rétrofacturation"},
    "cb_statement_of": {"en": "Chargeback statement: {month}", "fr": "Relevé de rétrofacturation : {month}"},
    "cb_month_name": {"en": "{month} {year}", "fr": "{month} {year}"},
    "cb_m01": {"en": "January", "fr": "janvier"},
    "cb_m02": {"en": "February", "fr": "février"},
    "cb_m03": {"en": "March", "fr": "mars"},
    "cb_m04": {"en": "April", "fr": "avril"},
    "cb_m05": {"en": "May", "fr": "mai"},
    "cb_m06": {"en": "June", "fr": "juin"},
    "cb_m07": {"en": "July", "fr": "juillet"},
    "cb_m08": {"en": "August", "fr": "août"},
    "cb_m09": {"en": "September", "fr": "septembre"},
    "cb_m10": {"en": "October", "fr": "octobre"},
    "cb_m11": {"en": "November", "fr": "novembre"},
    "cb_m12": {"en": "December", "fr": "décembre"},
    "cb_billing_month": {"en": "Billing month", "fr": "Mois de facturation"},
    "cb_st_open": {"en": "Open: may still change", "fr": "Ouvert : peut encore changer"},
    "cb_st_closed": {"en": "Final: month closed", "fr": "Définitif : mois fermé"},
    "cb_st_open_short": {"en": "Open", "fr": "Ouvert"},
    "cb_st_closed_short": {"en": "Final", "fr": "Définitif"},
    "cb_fiscal_year": {"en": "Fiscal year", "fr": "Exercice"},
    "cb_fiscal_year_of": {"en": "Fiscal year {label}", "fr": "Exercice {label}"},
    "cb_as_of": {"en": "As of ledger position {position}", "fr": "Selon la position {position} du registre"},
    "cb_currency_note": {
        "en": "Amounts are in Canadian dollars (CAD). A credit or a withheld charge is negative.",
        "fr": "Les montants sont en dollars canadiens (CAD). Un crédit ou un montant retenu est négatif.",
    },
    "cb_totals_heading": {"en": "Totals by category", "fr": "Totaux par catégorie"},
    "cb_totals_caption": {
        "en": "Totals of {month} by category, in CAD",
        "fr": "Totaux par catégorie pour {month}, en CAD",
    },
    "cb_category": {"en": "Category", "fr": "Catégorie"},
    "cb_amount": {"en": "Amount (CAD)", "fr": "Montant (CAD)"},
    "cb_cat_usage": {"en": "Usage", "fr": "Consommation"},
    "cb_cat_purchase": {"en": "Purchases", "fr": "Achats"},
    "cb_cat_ehf": {"en": "Environmental handling fees", "fr": "Frais environnementaux"},
    "cb_cat_tax": {"en": "Taxes", "fr": "Taxes"},
    "cb_cat_management_fee": {"en": "Management fees", "fr": "Frais de gestion"},
    "cb_cat_credit": {"en": "Credits", "fr": "Crédits"},
    "cb_cat_correction": {"en": "Corrections of closed months", "fr": "Corrections de mois fermés"},
    "cb_cat_total": {"en": "Total", "fr": "Total"},
    "cb_correction_of": {
        "en": "Correction of {category} for {period}",
        "fr": "Correction de la catégorie « {category} » pour {period}",
    },
    "cb_lines_heading": {"en": "Statement lines", "fr": "Lignes du relevé"},
    "cb_lines_caption": {
        "en": "Every line of the {month} statement, in the order recorded (amounts in CAD)",
        "fr": "Toutes les lignes du relevé pour {month}, dans l'ordre d'enregistrement (montants en CAD)",
    },
    "cb_no_lines": {
        "en": "Nothing is charged to this organisation in this month.",
        "fr": "Rien n'est facturé à cette organisation pour ce mois.",
    },
    "cb_charge_period": {"en": "Charge period", "fr": "Période visée"},
    "cb_what": {"en": "What", "fr": "Objet"},
    "cb_reference": {"en": "Reference", "fr": "Référence"},
    "cb_invoice": {"en": "Supplier invoice", "fr": "Facture du fournisseur"},
    "cb_invoice_line": {"en": "{number}, line {line}", "fr": "{number}, ligne {line}"},
    "cb_credit_ref": {"en": "Credit {credit}", "fr": "Crédit {credit}"},
    "cb_details": {"en": "Details", "fr": "Détails"},
    "cb_details_of": {"en": "of line {n}: {what}", "fr": "de la ligne {n} : {what}"},
    "cb_what_format": {"en": "{item} — {action}", "fr": "{item} — {action}"},
    "cb_item_charge": {"en": "Charge", "fr": "Coût"},
    "cb_item_shipping": {"en": "Shipping", "fr": "Frais d'expédition"},
    "cb_item_ehf": {"en": "Environmental handling fee", "fr": "Frais environnementaux"},
    "cb_item_tax": {"en": "Tax {component}", "fr": "Taxe {component}"},
    "cb_item_fee": {"en": "Management fee", "fr": "Frais de gestion"},
    "cb_item_fee_rate": {"en": "Management fee ({rate})", "fr": "Frais de gestion ({rate})"},
    "cb_item_credit": {"en": "Credit", "fr": "Crédit"},
    "cb_act_billed": {"en": "billed", "fr": "facturation"},
    "cb_act_withheld": {"en": "withheld (in dispute)", "fr": "retenue (en litige)"},
    "cb_act_rebilled": {"en": "billed again (dispute withdrawn)", "fr": "nouvelle facturation (litige retiré)"},
    "cb_act_credited": {"en": "credited", "fr": "crédit accordé"},
    "cb_tc_GST": {"en": "GST", "fr": "TPS"},
    "cb_tc_HST": {"en": "HST", "fr": "TVH"},
    "cb_tc_QST": {"en": "QST", "fr": "TVQ"},
    "cb_tc_PST": {"en": "PST", "fr": "TVP"},
    "cb_tc_RST": {"en": "RST", "fr": "TVD"},
    "cb_downloads": {"en": "Download", "fr": "Télécharger"},
    "cb_csv": {"en": "Every line as CSV", "fr": "Toutes les lignes en CSV"},
    "cb_focus": {
        "en": "FOCUS 1.2 cost and usage dataset (CSV)",
        "fr": "Jeu de données de coûts et d'utilisation FOCUS 1.2 (CSV)",
    },
    "cb_other_months": {"en": "Other months", "fr": "Autres mois"},
    "cb_previous": {"en": "Previous month: {month}", "fr": "Mois précédent : {month}"},
    "cb_next": {"en": "Next month: {month}", "fr": "Mois suivant : {month}"},
    "cb_print_hint": {
        "en": "To print this statement or save it as a PDF, use your browser's Print command:"
        " navigation, links and forms are left out of the printout.",
        "fr": "Pour imprimer ce relevé ou l'enregistrer en PDF, utilisez la commande Imprimer de votre"
        " navigateur : la navigation, les liens et les formulaires sont omis à l'impression.",
    },
    "cb_account": {"en": "Your session", "fr": "Votre session"},
    "cb_signed_in_as": {
        "en": "Signed in with the {role} key {key_id}.",
        "fr": "Connecté avec la clé {key_id} ({role}).",
    },
    "cb_sign_out": {"en": "Sign out", "fr": "Se déconnecter"},
    "cb_sign_in_title": {
        "en": "Sign in to the chargeback statements",
        "fr": "Connexion aux relevés de rétrofacturation",
    },
    "cb_sign_in_intro": {
        "en": "Statements show what your organisation is charged, so they are not public. Enter the API key"
        " the broker gave your organisation. This browser keeps it, for these pages only, until you sign"
        " out or close the browser.",
        "fr": "Les relevés indiquent ce qui est facturé à votre organisation : ils ne sont donc pas publics."
        " Entrez la clé d'API que le courtier a remise à votre organisation. Ce navigateur la conserve,"
        " pour ces pages seulement, jusqu'à ce que vous vous déconnectiez ou fermiez le navigateur.",
    },
    "cb_api_key": {"en": "API key", "fr": "Clé d'API"},
    "cb_api_key_hint": {
        "en": "It starts with olk_. Never share it in an email or a link.",
        "fr": "Elle commence par olk_. Ne la communiquez jamais dans un courriel ou un lien.",
    },
    "cb_sign_in_button": {"en": "Sign in", "fr": "Se connecter"},
    "cb_invalid_key": {
        "en": "This API key is unknown or revoked. Check it and try again.",
        "fr": "Cette clé d'API est inconnue ou révoquée. Vérifiez-la et réessayez.",
    },
    "cb_missing_key": {"en": "Enter your API key.", "fr": "Entrez votre clé d'API."},
    "cb_cross_site": {
        "en": "This form can only be sent from this site's own pages.",
        "fr": "Ce formulaire ne peut être envoyé que depuis les pages de ce site.",
    },
    "cb_signed_out": {"en": "You are signed out.", "fr": "Vous êtes déconnecté."},
    "cb_expired": {
        "en": "The key you signed in with is no longer valid. Sign in again.",
        "fr": "La clé avec laquelle vous vous êtes connecté n'est plus valide. Connectez-vous de nouveau.",
    },
    "cb_error": {"en": "Error:", "fr": "Erreur :"},
    "cb_no": {"en": "No.", "fr": "N°"},
    "cb_forbidden_title": {
        "en": "This statement is not your organisation's",
        "fr": "Ce relevé n'est pas celui de votre organisation",
    },
    "cb_forbidden": {
        "en": "The key you signed in with shows only the statements of {own}, not those of {org}."
        " To see them, sign in with a key of {org}.",
        "fr": "La clé avec laquelle vous êtes connecté ne donne accès qu'aux relevés de {own}, pas à ceux de"
        " {org}. Pour les consulter, connectez-vous avec une clé de {org}.",
    },
    "cb_own_statements": {"en": "Your organisation's statements", "fr": "Les relevés de votre organisation"},
    "cb_not_found_title": {"en": "Statement not found", "fr": "Relevé introuvable"},
    "cb_org_not_found": {
        "en": "{org} is not a registered organisation. Check the code and try again.",
        "fr": "{org} n'est pas une organisation inscrite. Vérifiez le code et réessayez.",
    },
    "cb_bad_period": {
        "en": "{period} is not a month. Write it as YYYY-MM, for example 2026-09.",
        "fr": "{period} n'est pas un mois. Écrivez-le sous la forme AAAA-MM, par exemple 2026-09.",
    },
    "cb_bad_year": {
        "en": "{year} is not a fiscal year. Write the year it starts in, for example 2026 for 2026-2027.",
        "fr": "{year} n'est pas un exercice. Écrivez l'année où il commence, par exemple 2026 pour 2026-2027.",
    },
    "cb_line_not_found": {
        "en": "The {month} statement of {org} has no line {line}.",
        "fr": "Le relevé de {org} pour {month} n'a aucune ligne {line}.",
    },
    "cb_choose_title": {"en": "Open a statement", "fr": "Ouvrir un relevé"},
    "cb_choose_intro": {
        "en": "Give the organisation's code and the month.",
        "fr": "Indiquez le code de l'organisation et le mois.",
    },
    "cb_choose_invalid": {
        "en": "Give an organisation code (for example ESDC) and a month written YYYY-MM.",
        "fr": "Indiquez un code d'organisation (par exemple ESDC) et un mois écrit AAAA-MM.",
    },
    "cb_org_code": {"en": "Organisation code", "fr": "Code de l'organisation"},
    "cb_month_field": {"en": "Month (YYYY-MM)", "fr": "Mois (AAAA-MM)"},
    "cb_open_button": {"en": "Open the statement", "fr": "Ouvrir le relevé"},
    # a statement line and its events
    "cb_line_title": {"en": "Statement line", "fr": "Ligne du relevé"},
    "cb_line_heading": {"en": "A line of the {month} statement", "fr": "Une ligne du relevé pour {month}"},
    "cb_line_fields": {"en": "The line", "fr": "La ligne"},
    "cb_line_id": {"en": "Line id", "fr": "Identifiant de la ligne"},
    "cb_corrects": {"en": "Corrects", "fr": "Corrige"},
    "cb_invoice_line_no": {"en": "Invoice line", "fr": "Ligne de la facture"},
    "cb_credit": {"en": "Credit", "fr": "Crédit"},
    "cb_tax_component": {"en": "Tax component", "fr": "Composante de taxe"},
    "cb_fee_rate": {"en": "Management fee rate", "fr": "Taux des frais de gestion"},
    "cb_events_heading": {
        "en": "Where the line comes from: the ledger's events",
        "fr": "D'où vient la ligne : les événements du registre",
    },
    "cb_events_intro": {
        "en": "Each event as the ledger recorded it. Business time is when the fact happened; ledger time is"
        " when it was recorded. Times are Eastern Time.",
        "fr": "Chaque événement tel que le registre l'a consigné. L'heure du fait est le moment où il s'est"
        " produit; l'heure d'enregistrement, celui où il a été consigné. Heures de l'Est.",
    },
    "cb_event_id": {"en": "Event id", "fr": "Identifiant de l'événement"},
    "cb_event_type": {"en": "Type", "fr": "Type"},
    "cb_position": {"en": "Ledger position", "fr": "Position dans le registre"},
    "cb_stream": {"en": "Stream", "fr": "Flux"},
    "cb_stream_version": {"en": "Stream version", "fr": "Version du flux"},
    "cb_occurred_at": {"en": "Business time", "fr": "Heure du fait"},
    "cb_recorded_at": {"en": "Ledger time", "fr": "Heure d'enregistrement"},
    "cb_actor": {"en": "Recorded by", "fr": "Consigné par"},
    "cb_data": {"en": "Data, as recorded", "fr": "Données, telles que consignées"},
    "cb_redacted": {
        "en": "Only this organisation's lines of the supplier invoice are shown: the lines of any other"
        " organisation and the invoice total are left out.",
        "fr": "Seules les lignes de la facture du fournisseur qui visent cette organisation sont affichées :"
        " les lignes de toute autre organisation et le total de la facture sont omis.",
    },
    "cb_back_statement": {"en": "Back to the {month} statement", "fr": "Retour au relevé pour {month}"},
    "ev_SupplierInvoiceReceived": {"en": "Supplier invoice received", "fr": "Facture du fournisseur reçue"},
    "ev_InvoiceLineDisputed": {"en": "Invoice line disputed", "fr": "Ligne de facture contestée"},
    "ev_DisputeResolved": {"en": "Dispute resolved", "fr": "Litige réglé"},
    "ev_InvoiceLineAssigned": {"en": "Invoice line assigned", "fr": "Ligne de facture attribuée"},
    "ev_CreditGranted": {"en": "Credit granted", "fr": "Crédit accordé"},
    # a fiscal year
    "cb_year_heading": {"en": "Chargeback: fiscal year {label}", "fr": "Rétrofacturation : exercice {label}"},
    "cb_year_intro": {
        "en": "The federal fiscal year runs from April to March. Each month links to its statement.",
        "fr": "L'exercice fédéral va d'avril à mars. Chaque mois mène à son relevé.",
    },
    "cb_year_caption": {
        "en": "Totals of fiscal year {label} per month and category, in CAD",
        "fr": "Totaux de l'exercice {label} par mois et par catégorie, en CAD",
    },
    "cb_month": {"en": "Month", "fr": "Mois"},
    "cb_lines_count": {"en": "Lines", "fr": "Lignes"},
    "cb_year_total": {"en": "Fiscal year total", "fr": "Total de l'exercice"},
    "cb_other_years": {"en": "Other fiscal years", "fr": "Autres exercices"},
    "cb_previous_year": {"en": "Previous fiscal year: {label}", "fr": "Exercice précédent : {label}"},
    "cb_next_year": {"en": "Next fiscal year: {label}", "fr": "Exercice suivant : {label}"},
    # the service status page (/status/services), its Atom feed
    "services_link": {"en": "Service status and availability", "fr": "État et disponibilité des services"},
    "svc_title": {"en": "Service status", "fr": "État des services"},
    "svc_intro": {
        "en": "Each service's state now, its open incidents with their timeline, its daily uptime over the last"
        " {days} days and its availability per month. Times are Eastern Time.",
        "fr": "L'état actuel de chaque service, ses incidents en cours et leur chronologie, sa disponibilité"
        " quotidienne des {days} derniers jours et sa disponibilité par mois. Heures de l'Est.",
    },
    "svc_all_operational": {"en": "All services are operational.", "fr": "Tous les services sont fonctionnels."},
    "svc_some_affected": {
        "en": "Services not fully operational: {n} of {total}.",
        "fr": "Services qui ne sont pas entièrement fonctionnels : {n} sur {total}.",
    },
    "svc_no_services": {"en": "No service is registered yet.", "fr": "Aucun service n'est encore inscrit."},
    "svc_state_now": {"en": "State now:", "fr": "État actuel :"},
    "svc_state_operational": {"en": "Operational", "fr": "Fonctionnel"},
    "svc_state_degraded": {"en": "Degraded performance", "fr": "Performance dégradée"},
    "svc_state_partial_outage": {"en": "Partial outage", "fr": "Panne partielle"},
    "svc_state_major_outage": {"en": "Major outage", "fr": "Panne majeure"},
    "svc_state_maintenance": {"en": "Maintenance", "fr": "Maintenance"},
    "svc_open_incidents": {"en": "Open incidents", "fr": "Incidents en cours"},
    "svc_no_incidents": {"en": "No open incident.", "fr": "Aucun incident en cours."},
    "svc_priority": {"en": "Priority", "fr": "Priorité"},
    "svc_impact": {"en": "Impact", "fr": "Incidence"},
    "svc_incident_status": {"en": "Status", "fr": "Statut"},
    "svc_started": {"en": "Started", "fr": "Début"},
    "svc_is_open": {"en": "Open", "fr": "Ouvert"},
    "svc_is_restored": {"en": "Service restored", "fr": "Service rétabli"},
    "svc_is_closed": {"en": "Closed", "fr": "Fermé"},
    "svc_timeline_caption": {"en": "Timeline of incident {incident}", "fr": "Chronologie de l'incident {incident}"},
    "svc_when": {"en": "When (Eastern Time)", "fr": "Quand (heure de l'Est)"},
    "svc_what": {"en": "What happened", "fr": "Événement"},
    "svc_note": {"en": "Note", "fr": "Remarque"},
    "svc_ev_IncidentOpened": {"en": "Incident opened", "fr": "Incident ouvert"},
    "svc_ev_IncidentUpdated": {"en": "Update", "fr": "Mise à jour"},
    "svc_ev_ServiceRestored": {"en": "Service restored", "fr": "Service rétabli"},
    "svc_ev_IncidentClosed": {"en": "Incident closed", "fr": "Incident fermé"},
    "svc_ev_IncidentRecurred": {"en": "Incident recurred", "fr": "Incident reproduit"},
    "svc_ev_OutageExclusionApproved": {"en": "Outage exclusion approved", "fr": "Exclusion de la panne approuvée"},
    "svc_rs_security_mitigation": {"en": "Security mitigation", "fr": "Mesure d'atténuation de sécurité"},
    "svc_rs_other_service_failure": {"en": "Failure of another service", "fr": "Défaillance d'un autre service"},
    "svc_rs_planned_downtime": {"en": "Planned downtime", "fr": "Interruption planifiée"},
    "svc_rs_client_service_failure": {
        "en": "Failure of a client's service",
        "fr": "Défaillance d'un service du client",
    },
    "svc_rs_ticket_suspended": {"en": "Ticket suspended", "fr": "Billet suspendu"},
    "svc_rs_insufficient_client_capacity": {
        "en": "Insufficient client capacity",
        "fr": "Capacité insuffisante du client",
    },
    "svc_uptime_heading": {
        "en": "Daily uptime, last {days} days",
        "fr": "Disponibilité quotidienne, {days} derniers jours",
    },
    "svc_uptime_label": {
        "en": "Daily uptime of {name} from {first} to {last}: {down} of {days} days with an outage.",
        "fr": "Disponibilité quotidienne de {name} du {first} au {last} : {down} jours sur {days} avec une panne.",
    },
    "svc_bar_title": {
        "en": "{day}: {pct} uptime, {minutes} minutes of outage",
        "fr": "{day} : disponibilité de {pct}, {minutes} minutes de panne",
    },
    "svc_bar_title_no_data": {
        "en": "{day}: no data (before the service was registered)",
        "fr": "{day} : aucune donnée (avant l'inscription du service)",
    },
    "svc_legend": {"en": "What the colours of the bars mean", "fr": "Ce que signifient les couleurs des barres"},
    "svc_bar_operational": {"en": "No outage", "fr": "Aucune panne"},
    "svc_bar_degraded": {"en": "Outage under 60 minutes", "fr": "Panne de moins de 60 minutes"},
    "svc_bar_major_outage": {"en": "Outage of 60 minutes or more", "fr": "Panne de 60 minutes ou plus"},
    "svc_bar_no_data": {"en": "No data (not registered yet)", "fr": "Aucune donnée (pas encore inscrit)"},
    "svc_today": {"en": "Today", "fr": "Aujourd'hui"},
    "svc_outage_days": {"en": "Days with an outage: {n}", "fr": "Jours avec une panne : {n}"},
    "svc_no_outage_days": {"en": "No outage in the last {days} days.", "fr": "Aucune panne depuis {days} jours."},
    "svc_monthly_heading": {"en": "Monthly availability", "fr": "Disponibilité mensuelle"},
    "svc_monthly_caption": {
        "en": "Availability of {name} per month (Eastern Time), most recent first",
        "fr": "Disponibilité de {name} par mois (heure de l'Est), le plus récent d'abord",
    },
    "svc_month": {"en": "Month", "fr": "Mois"},
    "svc_availability": {"en": "Availability", "fr": "Disponibilité"},
    "svc_target": {"en": "Target", "fr": "Cible"},
    "svc_result": {"en": "Result", "fr": "Résultat"},
    "svc_met": {"en": "Met", "fr": "Atteinte"},
    "svc_missed": {"en": "Missed", "fr": "Non atteinte"},
    "svc_so_far": {"en": "so far", "fr": "jusqu'ici"},
    "svc_in_progress": {"en": "in progress", "fr": "en cours"},
    "svc_outage_minutes": {"en": "Outage minutes", "fr": "Minutes de panne"},
    "svc_excluded_minutes": {"en": "Excluded minutes", "fr": "Minutes exclues"},
    "svc_months_note": {
        "en": "Availability is cut (not rounded) to 3 decimals. Excluded minutes are outages the client approved"
        " excluding; downtime inside an approved maintenance window is not counted.",
        "fr": "La disponibilité est tronquée (non arrondie) à 3 décimales. Les minutes exclues sont des pannes dont"
        " le client a approuvé l'exclusion; une interruption pendant une fenêtre de maintenance approuvée"
        " n'est pas comptée.",
    },
    "svc_feed_link": {"en": "Incident feed (Atom)", "fr": "Fil des incidents (Atom)"},
    "svc_json_link": {"en": "Summary in JSON", "fr": "Sommaire en JSON"},
    "svc_back": {"en": "Back to the status pages", "fr": "Retour aux pages d'état"},
    "svc_feed_title": {"en": "Service incidents", "fr": "Incidents des services"},
    "svc_feed_entry": {
        "en": "{service}: incident {incident} ({priority}, {status}) — {title}",
        "fr": "{service} : incident {incident} ({priority}, {status}) — {title}",
    },
    "svc_et": {"en": "ET", "fr": "HE"},
    "evc_title": {"en": "Event catalogue", "fr": "Catalogue des événements"},
    "evc_intro": {
        "en": "The {n} event types the ledger publishes to Kafka, by stream family: one topic per family, each"
        " event with its JSON Schema and an example of its data.",
        "fr": "Les {n} types d'événements que le registre publie dans Kafka, par famille de flux : un sujet par"
        " famille, chaque événement avec son schéma JSON et un exemple de ses données.",
    },
    "evc_binary_mode": {
        "en": "Each record is a CloudEvents 1.0 event in binary mode: the key is the stream id, the value the"
        " event's data as JSON, the other attributes are ce_* headers (ce_type names the schema, ce_dataschema"
        " gives its URL).",
        "fr": "Chaque enregistrement est un événement CloudEvents 1.0 en mode binaire : la clé est l'identifiant"
        " du flux, la valeur les données de l'événement en JSON, les autres attributs sont des en-têtes ce_*"
        " (ce_type nomme le schéma, ce_dataschema en donne l'URL).",
    },
    "evc_ordering": {
        "en": "Ordering is guaranteed per stream (the key is the stream id), not across streams.",
        "fr": "L'ordre est garanti pour chaque flux (la clé est l'identifiant du flux), pas d'un flux à l'autre.",
    },
    "evc_delivery": {
        "en": "Delivery is at least once: an event may arrive twice; de-duplicate by ce_id.",
        "fr": "La livraison est « au moins une fois » : un événement peut arriver deux fois; dédoublonnez par ce_id.",
    },
    "evc_evolution": {
        "en": "Within a schema version a new optional property may appear: ignore what you do not know. A change"
        " that would break a consumer is a new schema version, so a new type.",
        "fr": "Dans une version de schéma, une nouvelle propriété facultative peut apparaître : ignorez ce que vous"
        " ne connaissez pas. Un changement qui briserait un consommateur est une nouvelle version de schéma,"
        " donc un nouveau type.",
    },
    "evc_asyncapi_link": {"en": "AsyncAPI 3.0 document (JSON)", "fr": "Document AsyncAPI 3.0 (JSON)"},
    "evc_schemas_link": {"en": "List of the schemas (JSON)", "fr": "Liste des schémas (JSON)"},
    "evc_contents": {"en": "Stream families", "fr": "Familles de flux"},
    "evc_n_types": {"en": "{n} event types", "fr": "{n} types d'événements"},
    "evc_one_type": {"en": "{n} event type", "fr": "{n} type d'événement"},
    "evc_topic": {"en": "Kafka topic", "fr": "Sujet Kafka"},
    "evc_key": {"en": "Record key (stream id)", "fr": "Clé de l'enregistrement (identifiant du flux)"},
    "evc_ce_type": {"en": "CloudEvents type", "fr": "Type CloudEvents"},
    "evc_version": {"en": "Schema version", "fr": "Version du schéma"},
    "evc_schema": {"en": "JSON Schema", "fr": "Schéma JSON"},
    "evc_example": {
        "en": "Example of {event_type} data (the record's value)",
        "fr": "Exemple de données {event_type} (la valeur de l'enregistrement)",
    },
    "evc_no_example": {"en": "No example available.", "fr": "Aucun exemple disponible."},
    "evc_family_order": {"en": "Orders", "fr": "Commandes"},
    "evc_family_order_desc": {
        "en": "Every fact of an order's life, from placement and pricing through security approval, award and"
        " delivery to cancellation or closing.",
        "fr": "Chaque fait de la vie d'une commande, de sa passation à sa clôture : prix, approbation de"
        " sécurité, attribution, livraison, annulation.",
    },
    "evc_key_order": {
        "en": "the order number, e.g. ORD-2026-000123",
        "fr": "le numéro de commande, p. ex. ORD-2026-000123",
    },
    "evc_fact_order": {"en": "A fact of an order.", "fr": "Un fait de la vie d'une commande."},
    "evc_family_contract": {"en": "Contracts", "fr": "Contrats"},
    "evc_family_contract_desc": {
        "en": "Standing offers, supply arrangements, inventory and cloud contracts: registration, ceiling,"
        " consumption, inventory, capacity thresholds, renewals, expiry and termination.",
        "fr": "Offres à commandes, arrangements en matière d'approvisionnement, contrats d'inventaire et"
        " d'infonuagique : enregistrement, plafond, consommation, inventaire, seuils de capacité,"
        " renouvellements, expiration et résiliation.",
    },
    "evc_key_contract": {
        "en": "contract-<contract id>, e.g. contract-NMSO-E60PQ-140003",
        "fr": "contract-<numéro du contrat>, p. ex. contract-NMSO-E60PQ-140003",
    },
    "evc_fact_contract": {"en": "A fact of a contract.", "fr": "Un fait de la vie d'un contrat."},
    "evc_family_organisation": {"en": "Organisations", "fr": "Organisations"},
    "evc_family_organisation_desc": {
        "en": "The client organisations the broker serves and re-bills.",
        "fr": "Les organisations clientes que le courtier sert et refacture.",
    },
    "evc_key_organisation": {
        "en": "organisation-<code>, e.g. organisation-ESDC",
        "fr": "organisation-<code>, p. ex. organisation-ESDC",
    },
    "evc_fact_organisation": {"en": "A fact of an organisation.", "fr": "Un fait concernant une organisation cliente."},
    "evc_family_invoice": {"en": "Supplier invoices", "fr": "Factures des fournisseurs"},
    "evc_family_invoice_desc": {
        "en": "Supplier invoices as received and priced by the ledger, their disputes and line assignments.",
        "fr": "Les factures des fournisseurs telles que reçues et calculées par le registre, leurs contestations"
        " et les attributions de leurs lignes.",
    },
    "evc_key_invoice": {
        "en": "invoice-<supplier slug>--<invoice number>, e.g. invoice-compugen-inc--140004-202610",
        "fr": "invoice-<fournisseur>--<numéro de facture>, p. ex. invoice-compugen-inc--140004-202610",
    },
    "evc_fact_invoice": {"en": "A fact of a supplier invoice.", "fr": "Un fait concernant une facture de fournisseur."},
    "evc_family_credit": {"en": "Credits", "fr": "Crédits"},
    "evc_family_credit_desc": {
        "en": "Credits granted to an organisation: late-delivery rebates and service credits.",
        "fr": "Les crédits accordés à une organisation : remises pour livraison tardive et crédits de service.",
    },
    "evc_key_credit": {
        "en": "credit-<credit id>, e.g. credit-CCAAS-2026-09-CRA",
        "fr": "credit-<numéro du crédit>, p. ex. credit-CCAAS-2026-09-CRA",
    },
    "evc_fact_credit": {"en": "A credit granted.", "fr": "Un crédit accordé à une organisation."},
    "evc_family_billing_period": {"en": "Billing periods", "fr": "Périodes de facturation"},
    "evc_family_billing_period_desc": {
        "en": "The closing and the audited reopening of monthly billing periods.",
        "fr": "La fermeture et la réouverture (auditée) des périodes de facturation mensuelles.",
    },
    "evc_key_billing_period": {
        "en": "billing-periods (a single stream for every month)",
        "fr": "billing-periods (un seul flux pour tous les mois)",
    },
    "evc_fact_billing_period": {
        "en": "A fact of a billing period.",
        "fr": "Un fait concernant une période de facturation mensuelle.",
    },
    "evc_family_service": {"en": "Services", "fr": "Services"},
    "evc_family_service_desc": {
        "en": "Subscription services: registration, maintenance windows, service desk reports, their incident log"
        " and monthly service levels.",
        "fr": "Les services par abonnement : enregistrement, fenêtres de maintenance, rapports du centre de"
        " services, journal des incidents et niveaux de service mensuels.",
    },
    "evc_key_service": {
        "en": "service-<service id>, e.g. service-CCAAS",
        "fr": "service-<identifiant du service>, p. ex. service-CCAAS",
    },
    "evc_fact_service": {"en": "A fact of a service.", "fr": "Un fait concernant un service par abonnement."},
    "evc_family_incident": {"en": "Incidents", "fr": "Incidents"},
    "evc_family_incident_desc": {
        "en": "Service incidents, from opening to closing; each event carries the incident as it stands after it.",
        "fr": "Les incidents de service, de leur ouverture à leur fermeture; chaque événement porte l'incident tel"
        " qu'il est après lui.",
    },
    "evc_key_incident": {
        "en": "incident-<incident id>, e.g. incident-CC-101",
        "fr": "incident-<numéro de l'incident>, p. ex. incident-CC-101",
    },
    "evc_fact_incident": {"en": "A fact of an incident.", "fr": "Un fait de la vie d'un incident de service."},
}


MINUS = "\u2212"  # a real minus sign, not a hyphen
THIN_SPACE = "\u202f"  # narrow no-break space: the French thousands separator


def number_text(value: Decimal | str | int, language: str) -> str:
    """A number as given (never rounded here): 1,234.5 in English; 1 234,5 in French (narrow no-break space)."""
    text = format(Decimal(value), ",f")
    return text.replace(",", THIN_SPACE).replace(".", ",") if language == "fr" else text


def percent_text(value: Decimal | str | int, language: str) -> str:
    """99.953% in English; 99,953 % in French (no-break space before the sign)."""
    number = number_text(value, language)
    return f"{number}\u00a0%" if language == "fr" else f"{number}%"


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
