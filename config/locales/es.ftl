# Respuestas de civicline en español, para SMS.
# Cada una cabe en un segmento (160 caracteres GSM-7): sin á í ó ú, que pasarían el mensaje a
# UCS-2 (70 caracteres). é ñ ü ¿ ¡ sí están en GSM-7.

report-logged = ¡Gracias! Reporte #{ $number } ({ $category }) registrado. Envie ESTADO { $number } para novedades.
report-logged-uncategorized = ¡Gracias! Reporte #{ $number } registrado. Envie ESTADO { $number } para novedades.
report-ask-location = ¡Gracias! Reporte #{ $number } ({ $category }) registrado. ¿Donde esta? Responda con la calle y la esquina, u OMITIR.
report-ask-area = ¡Gracias! Reporte #{ $number } ({ $category }) registrado. ¿En que barrio esta? Responda con su nombre, u OMITIR.
location-saved = ¡Gracias! Guardamos el lugar del reporte #{ $number }. Envie ESTADO { $number } para novedades.
location-skipped = De acuerdo. Reporte #{ $number } registrado sin lugar. Envie ESTADO { $number } para novedades.
followup-added = Gracias, lo agregamos al reporte #{ $number }. Envie ESTADO { $number } para novedades.
report-joined = Ya fue reportado como #{ $number }. Le avisaremos cuando esté arreglado.
status-report = Reporte #{ $number } ({ $category }): { $status ->
        [open] recibido, en espera de revision
        [acknowledged] visto por la ciudad
        [in_progress] en proceso
        [resolved] resuelto
       *[other] cerrado
    }. Puede responder con mas detalles.
status-report-due = Reporte #{ $number } ({ $category }): { $status ->
        [open] recibido, en espera de revision
        [acknowledged] visto por la ciudad
        [in_progress] en proceso
        [resolved] resuelto
       *[other] cerrado
    }. Plazo para arreglarlo: { $due }.
status-not-found = No encontramos el reporte #{ $number } de este numero. Envie ESTADO para ver su ultimo reporte.
status-none = Aun no tiene reportes. Envie el problema y el lugar, p. ej. BACHE Calle 5 y Av 3.
help = Envie el problema y el lugar, p. ej. BACHE Calle 5 y Av 3. Palabras: { $keywords }. ESTADO 12 = reporte 12. PARAR = baja.
empty-message = Recibimos un mensaje vacio. Envie el problema y el lugar, p. ej. BACHE Calle 5 y Av 3.
opted-out = Se dio de baja y no recibira mas mensajes de este numero. Envie ALTA para volver.
opted-in = Esta suscrito de nuevo. Envie AYUDA para ayuda o PARAR para darse de baja.
lang-set = De acuerdo, le responderemos en español. Envie AYUDA para ver las palabras.
lang-unknown = Idiomas: { $languages }. Envie IDIOMA y uno de ellos, p. ej. IDIOMA ES.
joined = Recibira alertas de { $topic }. Envie SALIR { $keyword } para dejarlas, PARAR para no recibir nada.
left = No recibira mas alertas de { $topic }. Envie UNIRSE { $keyword } para volver a recibirlas.
topic-unknown = Temas: { $topics }. Envie UNIRSE y un tema, p. ej. UNIRSE { $example }.
status-notice = Reporte #{ $number } ({ $category }): { $status ->
        [open] abierto de nuevo
        [acknowledged] visto por la ciudad
        [in_progress] en proceso
        [resolved] resuelto
        [closed_duplicate] cerrado, ya reportado
        [closed_not_ours] cerrado, no es de la ciudad
       *[other] cerrado
    }.
resolved-question = Reporte #{ $number } ({ $category }) resuelto. ¿Quedo arreglado? Responda 1 para si, 2 para no.
fixed-confirmed = ¡Gracias por confirmar que el reporte #{ $number } quedo arreglado!
reopened = Lo sentimos. El reporte #{ $number } esta abierto de nuevo y la ciudad lo revisara.
uncategorized = Reporte

# Pantallas USSD.
ussd-main =
    Linea de la ciudad
    1 Reportar un problema
    2 Seguir un reporte
    3 Idioma
ussd-categories = Cual es el problema?
ussd-where =
    Donde esta? Calle y esquina, o un lugar conocido.
    0 Volver
ussd-confirm =
    { $category }: { $place }
    1 Enviar
    0 Volver
ussd-filed = Gracias! Reporte #{ $number } ({ $category }) registrado. Le avisaremos por SMS cuando cambie.
ussd-track =
    Numero de su reporte?
    0 Volver
ussd-languages = Idioma:
ussd-invalid = Opcion no valida.
ussd-back = 0 Volver
ussd-unavailable = Lo sentimos, no podemos recibirlo ahora. Intente pronto o envienos un SMS.
# Encuestas: la linea bajo las opciones; el agradecimiento por una respuesta contada o por otras palabras.
poll-invite = Responda con un numero del 1 al { $last }.
poll-counted = Gracias! Su respuesta a la encuesta #{ $number } fue contada.
poll-noted = Gracias, anotamos su respuesta a la encuesta #{ $number }. Para reportar un problema, envie AYUDA.
