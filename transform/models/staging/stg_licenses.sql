-- One row per kind of bird the console is licensed for, with the licenses used and left.
with licenses as (
    {{ current_rows(source('canary', 'licenses')) }}
)

select
    console,
    kind,
    cast(bird_count as bigint) as bird_count,
    cast(license_count as bigint) as license_count,
    cast(remaining_licenses as bigint) as remaining_licenses,
    {{ json_or_null('details') }} as details,
    {{ json_or_null('extra') }} as extra
from licenses
