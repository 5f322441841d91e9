# Réponses de civicline en français, pour SMS.
# Chacune tient dans un segment (160 caractères GSM-7) : é è à ù sont en GSM-7, mais pas
# ç ê â î ô û ë ï, qui feraient passer le message en UCS-2 (70 caractères).

report-logged = Merci ! Signalement #{ $number } ({ $category }) enregistré. Envoyez SUIVI { $number } pour les nouvelles.
report-logged-uncategorized = Merci ! Signalement #{ $number } enregistré. Envoyez SUIVI { $number } pour les nouvelles.
report-ask-location = Merci ! Signalement #{ $number } ({ $category }) enregistré. Où est-ce ? Répondez avec la rue et le croisement, ou PASSER.
report-ask-area = Merci ! Signalement #{ $number } ({ $category }) enregistré. Dans quel quartier ? Répondez avec son nom, ou PASSER.
location-saved = Merci ! Le lieu du signalement #{ $number } est enregistré. Envoyez SUIVI { $number } pour les nouvelles.
location-skipped = D'accord. Signalement #{ $number } enregistré sans lieu. Envoyez SUIVI { $number } pour les nouvelles.
followup-added = Merci, c'est ajouté au signalement #{ $number }. Envoyez SUIVI { $number } pour les nouvelles.
report-joined = Déjà signalé sous le #{ $number }. Nous vous écrirons quand ce sera réparé.
status-report = Signalement #{ $number } ({ $category }) : { $status ->
        [open] enregistré, en attente
        [acknowledged] vu par la ville
        [in_progress] travaux en cours
        [resolved] résolu
       *[other] clos
    }. Répondez pour ajouter des détails.
status-report-due = Signalement #{ $number } ({ $category }) : { $status ->
        [open] enregistré, en attente
        [acknowledged] vu par la ville
        [in_progress] travaux en cours
        [resolved] résolu
       *[other] clos
    }. Réparation prévue d'ici le { $due }.
status-not-found = Aucun signalement #{ $number } de ce numéro. Envoyez SUIVI pour voir votre dernier signalement.
status-none = Aucun signalement pour l'instant. Envoyez le problème et le lieu, ex. TROU rue de la Paix.
help = Envoyez le problème et le lieu, ex. TROU rue de la Paix. Mots : { $keywords }. SUIVI 12 = suivi du 12. ARRET = fin des SMS.
empty-message = Message vide. Envoyez le problème et le lieu, ex. TROU rue de la Paix.
opted-out = Désinscription faite : plus aucun SMS de ce numéro. Envoyez COMMENCER pour revenir.
opted-in = Inscription rétablie. Envoyez AIDE pour l'aide ou ARRET pour vous désinscrire.
lang-set = C'est noté : réponses en français. Envoyez AIDE pour l'aide.
lang-unknown = Langues : { $languages }. Envoyez LANGUE et l'une d'elles, ex. LANGUE FR.
joined = Vous recevrez les alertes { $topic }. Envoyez QUITTER { $keyword } pour ne plus les recevoir, ARRET pour tout stopper.
left = Vous ne recevrez plus les alertes { $topic }. Envoyez REJOINDRE { $keyword } pour les recevoir.
topic-unknown = Thèmes : { $topics }. Envoyez REJOINDRE et un thème, ex. REJOINDRE { $example }.
status-notice = Signalement #{ $number } ({ $category }) : { $status ->
        [open] rouvert
        [acknowledged] vu par la ville
        [in_progress] travaux en cours
        [resolved] résolu
        [closed_duplicate] clos, déjà signalé
        [closed_not_ours] clos, hors compétence de la ville
       *[other] clos
    }.
resolved-question = Signalement #{ $number } ({ $category }) résolu. Est-ce réparé ? Répondez 1 pour oui, 2 pour non.
fixed-confirmed = Merci d'avoir confirmé que le signalement #{ $number } est réparé !
reopened = Désolé. Le signalement #{ $number } est rouvert et la ville va s'en occuper.
uncategorized = Signalement

# Ecrans USSD.
ussd-main =
    Ligne de la ville
    1 Signaler un probleme
    2 Suivre un signalement
    3 Langue
ussd-categories = Quel est le probleme ?
ussd-where =
    Ou est-ce ? Rue et croisement, ou un lieu connu.
    0 Retour
ussd-confirm =
    { $category } : { $place }
    1 Envoyer
    0 Retour
ussd-filed = Merci ! Signalement #{ $number } ({ $category }) enregistre. Nous vous ecrirons quand il changera.
ussd-track =
    Numero de votre signalement ?
    0 Retour
ussd-languages = Langue :
ussd-invalid = Choix invalide.
ussd-back = 0 Retour
ussd-unavailable = Desole, impossible pour le moment. Reessayez bientot ou envoyez-nous un SMS.
# Sondages : la ligne sous les options ; le merci pour une reponse comptee ou pour d'autres mots.
poll-invite = Repondez par un numero de 1 a { $last }.
poll-counted = Merci ! Votre reponse au sondage #{ $number } est comptee.
poll-noted = Merci, nous avons note votre reponse au sondage #{ $number }. Pour signaler un probleme, envoyez AIDE.
