-- An incident has an acknowledgement time exactly when it is acknowledged, never before it
-- was created; only the audit trail says by whom.
select console, incident_id, acknowledged, acknowledged_at, seconds_to_acknowledge
from {{ ref('fct_incidents') }}
where (acknowledged and acknowledged_at is null)
    or (not acknowledged and acknowledged_at is not null)
    or seconds_to_acknowledge < 0
    or (acknowledged_by is not null and acknowledged_at_source <> 'audit_trail')
