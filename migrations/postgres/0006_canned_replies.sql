-- Ready-made replies officials start from, in each shipped language. Operators edit this table
-- (GSM-7 text keeps each to one SMS segment: no á í ó ú in Spanish, no ç ê in French).
insert into canned_reply (language, title, body) values
    ('en', 'Crew scheduled', 'Thank you for your report. A crew is scheduled to fix it this week.'),
    ('en', 'Need location', 'Thank you. Can you tell us the nearest street corner or house number?'),
    ('en', 'Not the city', 'Thank you. This is not handled by the city; we passed it to the right office.'),
    ('es', 'Cuadrilla programada', 'Gracias por su reporte. Una cuadrilla lo arreglara esta semana.'),
    ('es', 'Falta el lugar', 'Gracias. ¿Puede decirnos la esquina o el numero de casa mas cercano?'),
    ('es', 'No es de la ciudad', 'Gracias. Esto no lo atiende la ciudad; lo pasamos a la oficina que corresponde.'),
    ('fr', 'Equipe prevue', 'Merci pour votre signalement. Une équipe viendra réparer cette semaine.'),
    ('fr', 'Lieu manquant', 'Merci. Pouvez-vous indiquer le carrefour ou le numéro le plus proche ?'),
    ('fr', 'Hors ville', 'Merci. Ceci ne relève pas de la ville ; nous avons transmis au bon service.');
