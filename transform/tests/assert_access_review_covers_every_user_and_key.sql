-- Every user and every API key is reviewed once; only an enabled user can be without a second
-- factor, and never one who has one; a key is no older than the review.
with expected as (
    select console, 'user' as principal_type, user_id as principal_id from {{ ref('stg_users') }}
    union all
    select console, 'api_key' as principal_type, key_id as principal_id
    from {{ ref('stg_api_keys') }}
)

select e.console, e.principal_type, e.principal_id, r.principal_id as reviewed
from expected as e
full outer join {{ ref('access_review') }} as r
    on r.console = e.console
    and r.principal_type = e.principal_type
    and r.principal_id = e.principal_id
where e.principal_id is null
    or r.principal_id is null
    or (r.without_second_factor and (r.disabled or r.has_second_factor or r.principal_type <> 'user'))
    or r.age_days < 0
    or r.created_at > r.measured_at
