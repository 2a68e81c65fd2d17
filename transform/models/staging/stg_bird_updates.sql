-- One row per bird whose firmware can be updated, with the version it can be updated to. A bird
-- missing here is up to date: the console lists only the birds that are behind. An update is
-- current only while its bird is.
with updates as (
    {{ current_rows_of_current_parents(
        source('canary', 'bird_updates'), source('canary', 'birds'), 'node_id'
    ) }}
)

select
    console,
    node_id as bird_id,
    name as bird_name,
    flock_id,
    current_version,
    available_version,
    update_tag,
    automatic_updates_enabled,
    update_description,
    update_filename,
    update_ignored,
    {{ json_or_null('extra') }} as extra
from updates
