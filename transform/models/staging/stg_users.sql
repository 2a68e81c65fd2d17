-- One row per console user still in its console: access level and second factors; the flocks a
-- user manages or watches stay in the loaded table.
with users as (
    {{ current_rows(source('canary', 'users')) }}
)

select
    console,
    id as user_id,
    email,
    access_level,
    coalesce(is_admin, false) as is_admin,
    nullif(note, '') as note,
    coalesce(disabled, false) as disabled,
    supervisor,
    totp_enabled,
    webauthn_enabled,
    coalesce(totp_enabled, false) or coalesce(webauthn_enabled, false) as has_second_factor,
    saml_provisioned,
    -- A user who may only log in through single sign-on has no password of the console's.
    coalesce(no_direct_login, false) as sso_only,
    summary_email_enabled,
    {{ json_or_null('extra') }} as extra
from users
