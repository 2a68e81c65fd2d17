-- One row per user or API key that can reach a console: what it may do, whether a user has a
-- second factor, and how old each key is and who created it.
with users as (
    select * from {{ ref('stg_users') }}
),

api_keys as (
    select * from {{ ref('stg_api_keys') }}
),

reviewed as (
    select
        console,
        'user' as principal_type,
        user_id as principal_id,
        email as principal_name,
        access_level as access,
        is_admin,
        cast(null as {{ dbt.type_string() }}) as flock_id,
        disabled,
        has_second_factor,
        sso_only,
        cast(null as timestamp) as created_at,
        cast(null as {{ dbt.type_string() }}) as created_by,
        cast(null as timestamp) as last_used_at
    from users

    union all

    select
        console,
        'api_key' as principal_type,
        key_id as principal_id,
        note as principal_name,
        key_type as access,
        is_admin,
        flock_id,
        false as disabled,
        -- A key is a bearer secret: it has no second factor to have.
        cast(null as boolean) as has_second_factor,
        false as sso_only,
        created_at,
        created_by,
        last_used_at
    from api_keys
)

select
    r.console,
    r.principal_type,
    r.principal_id,
    r.principal_name,
    r.access,
    r.is_admin,
    r.flock_id,
    r.disabled,
    r.has_second_factor,
    r.sso_only,
    -- Who a password alone lets in: an enabled user with neither TOTP nor WebAuthn, unless single
    -- sign-on is their only way in (their second factor is then the identity provider's).
    r.principal_type = 'user' and not r.disabled and not r.sso_only and not r.has_second_factor
        as without_second_factor,
    r.created_at,
    r.created_by,
    -- The console names a key's creator by e-mail address, or as another key.
    case
        when r.created_by like 'Global-API-Token[%' then 'api_key'
        when r.created_by is not null then 'user'
    end as creator_type,
    creator.user_id as creator_user_id,
    r.last_used_at,
    {{ utc_now() }} as measured_at,
    {{ dbt.datediff('r.created_at', utc_now(), 'day') }} as age_days
from reviewed as r
left join users as creator
    on creator.console = r.console and creator.email = r.created_by
