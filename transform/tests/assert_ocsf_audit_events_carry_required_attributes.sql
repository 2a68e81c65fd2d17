-- Every audit entry is one Entity Management event whose type_uid follows from its activity
-- and whose managed entity has a name or uid, as OCSF requires.
with audit as (
    select console, audit_id from {{ ref('stg_audit_trail') }}
)

select a.console, a.audit_id
from audit as a
left join {{ ref('ocsf_entity_management') }} as e
    on e.console = a.console and e.audit_id = a.audit_id
where e.audit_id is null
    or e.type_uid <> e.class_uid * 100 + e.activity_id
    or ({{ json_text('e.entity', 'name') }} is null and {{ json_text('e.entity', 'uid') }} is null)
    or {{ json_text('e.metadata', 'version') }} is distinct from '{{ var("ocsf_version") }}'
