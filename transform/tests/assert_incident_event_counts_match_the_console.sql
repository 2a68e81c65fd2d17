-- Every event the console counts for an incident landed in incident_events, in one span.
select console, incident_id, events_count, event_rows, first_event_at, last_event_at
from {{ ref('fct_incidents') }}
where event_rows <> events_count
    or first_event_at > last_event_at
    or first_event_at < created_at
