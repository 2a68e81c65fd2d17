{#
  The audit trail as OCSF Entity Management events (class_uid 3004, category Identity &
  Access Management), following OCSF {{ var('ocsf_version') }}. The class is for "activity by
  a user at a management console" on a managed entity, which is what every entry records: a
  user or API key acknowledging an incident, creating a Canarytoken, moving or rebooting a
  bird, changing settings, logging in. activity_id says what was done to the entity.
#}
{%- set version = var('ocsf_version') -%}
with entries as (
    select
        *,
        case
            when action_type like '%\_create' escape '\' or action_type like '%\_add' escape '\' then 1
            when action_type like '%\_delete' escape '\' or action_type like '%\_remove' escape '\' then 4
            when action_type like '%\_move' escape '\' then 5
            when action_type like '%\_enable' escape '\' then 8
            when action_type like '%\_disable' escape '\' then 9
            when action_type like '%\_acknowledge' escape '\'
                or action_type like '%\_change' escape '\'
                or action_type like '%\_update' escape '\'
                or action_type like '%\_schedule\_reboot' escape '\' then 3
            else 99
        end as activity_id,
        case
            when action_type like 'incident\_%' escape '\' then 'Incident'
            when action_type like 'canarytoken\_%' escape '\' then 'Canarytoken'
            when action_type like 'device\_%' escape '\' or action_type = 'flock_move' then 'Device'
            when action_type like 'flock\_%' escape '\' then 'Flock'
            when action_type like 'settings\_%' escape '\' then 'Settings'
            when action_type like 'user\_%' escape '\' then 'User'
            else 'Console'
        end as entity_type
    from {{ ref('stg_audit_trail') }}
)

select
    console,
    audit_id,
    activity_id,
    case activity_id
        when 1 then 'Create' when 3 then 'Update' when 4 then 'Delete' when 5 then 'Move'
        when 8 then 'Enable' when 9 then 'Disable' else 'Other'
    end as activity_name,
    3 as category_uid,
    'Identity & Access Management' as category_name,
    3004 as class_uid,
    'Entity Management' as class_name,
    3004 * 100 + activity_id as type_uid,
    'Entity Management: ' || case activity_id
        when 1 then 'Create' when 3 then 'Update' when 4 then 'Delete' when 5 then 'Move'
        when 8 then 'Enable' when 9 then 'Disable' else 'Other'
    end as type_name,
    1 as severity_id,
    'Informational' as severity,
    {{ epoch_ms('logged_at') }} as time,
    logged_at as time_dt,
    coalesce(message, action_type) as message,
    1 as status_id,
    'Success' as status,
    '{{ version }}' as metadata_version,
    {{ json_object([
        ('version', "'" ~ version ~ "'"),
        ('uid', 'cast(audit_id as varchar)'),
        ('tenant_uid', 'console'),
        ('log_name', "'audit_trail'"),
        ('original_time', 'cast(logged_at as varchar)'),
        ('product', json_object([
            ('name', "'Thinkst Canary'"),
            ('vendor_name', "'Thinkst'"),
        ])),
    ]) }} as metadata,
    {{ json_object([
        ('type', 'entity_type'),
        ('type_id', "case entity_type when 'Device' then 1 when 'User' then 2 end"),
        ('uid', "coalesce(incident_id, case when entity_type = 'User' then user_name end)"),
        ('name', "case when entity_type = 'User' then coalesce(user_name, entity_type) else entity_type end"),
    ]) }} as entity,
    {{ json_object([
        ('user', json_object([('name', 'user_name'), ('email_addr', "case when user_name like '%@%' then user_name end")])),
    ]) }} as actor,
    {{ json_object([('ip', 'user_ip')]) }} as src_endpoint,
    {{ json_object([
        ('action_type', 'action_type'),
        ('flock_id', 'flock_id'),
        ('user_browser_agent', 'user_browser_agent'),
        ('user_browser_language', 'user_browser_language'),
        ('additional_information', 'additional_information'),
    ]) }} as unmapped
from entries
