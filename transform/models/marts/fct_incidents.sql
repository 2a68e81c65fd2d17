-- One row per incident: where it happened, what it was, its events, and how fast it was
-- acknowledged.
with incidents as (
    select * from {{ ref('stg_incidents') }}
),

event_span as (
    select
        console,
        incident_id,
        count(*) as event_rows,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at
    from {{ ref('stg_incident_events') }}
    group by console, incident_id
),

-- An acknowledgement in the audit trail names its incident; the first one counts.
acknowledgements as (
    select console, incident_id, logged_at, user_name
    from (
        select
            console,
            incident_id,
            logged_at,
            user_name,
            row_number() over (
                partition by console, incident_id order by logged_at, audit_id
            ) as nth
        from {{ ref('stg_audit_trail') }}
        where action_type = 'incident_acknowledge' and incident_id is not null
    ) as ranked
    where nth = 1
),

sources as (
    select
        console,
        incident_id,
        row_number() over (
            partition by console, src_host order by created_at, incident_id
        ) as nth_from_source
    from incidents
    where src_host is not null and not {{ is_operational('logtype_category') }}
),

enriched as (
    select
        i.console,
        i.incident_id,
        i.updated_id,
        i.created_at,
        i.updated_at,
        i.logtype,
        i.logtype_name,
        i.logtype_category,
        i.description,
        {{ is_operational('i.logtype_category') }} as is_operational,
        i.flock_id,
        coalesce(f.flock_name, i.flock_name) as flock_name,
        i.node_id,
        case
            when b.bird_id is not null then 'bird'
            when t.canarytoken is not null or i.logtype_category = 'Canarytoken' then 'token'
            else 'unknown'
        end as node_kind,
        coalesce(b.bird_name, nullif(i.node_name, 'N/A')) as bird_name,
        t.canarytoken,
        t.kind as token_kind,
        coalesce(t.memo, i.memo) as token_memo,
        i.src_host,
        i.src_host_reverse,
        i.src_port,
        i.dst_host,
        i.dst_port,
        i.events_count,
        coalesce(e.event_rows, 0) as event_rows,
        coalesce(e.first_event_at, i.created_at) as first_event_at,
        coalesce(e.last_event_at, e.first_event_at, i.created_at) as last_event_at,
        i.acknowledged,
        case
            when a.logged_at is not null then a.logged_at
            -- Without an audit entry, the incident's last change is when it was acknowledged,
            -- at the latest.
            when i.acknowledged then i.updated_at
        end as acknowledged_at,
        case
            when a.logged_at is not null then 'audit_trail'
            when i.acknowledged and i.updated_at is not null then 'incident_updated_at'
        end as acknowledged_at_source,
        a.user_name as acknowledged_by,
        case when s.nth_from_source is not null then s.nth_from_source > 1 end
            as source_seen_before,
        coalesce(s.nth_from_source - 1, 0) as earlier_incidents_from_source
    from incidents as i
    left join {{ ref('stg_flocks') }} as f
        on f.console = i.console and f.flock_id = i.flock_id
    left join {{ ref('stg_birds') }} as b
        on b.console = i.console and b.bird_id = i.node_id
    left join {{ ref('stg_tokens') }} as t
        on t.console = i.console and t.node_id = i.node_id
    left join event_span as e
        on e.console = i.console and e.incident_id = i.incident_id
    left join acknowledgements as a
        on a.console = i.console and a.incident_id = i.incident_id
    left join sources as s
        on s.console = i.console and s.incident_id = i.incident_id
)

select
    *,
    {{ seconds_between('created_at', 'acknowledged_at') }} as seconds_to_acknowledge
from enriched
