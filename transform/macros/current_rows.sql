{#
  A loader that replicates deletions marks a deleted row with `_sdc_deleted_at` instead of
  removing it. The column only exists once a stream sends deletions, so the filters below are
  added only when the relation has it: the same model works before and after.
#}
{% macro deleted_at_column(relation) %}
    {%- set found = namespace(column=none) -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower == '_sdc_deleted_at' -%}
                {%- set found.column = column.name -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found.column) }}
{% endmacro %}


{# The rows of a loaded table that still exist in the console. #}
{% macro current_rows(relation) %}
    {%- set deleted_at = deleted_at_column(relation) -%}
    select * from {{ relation }}
    {%- if deleted_at %} where {{ adapter.quote(deleted_at) }} is null{% endif %}
{% endmacro %}


{# The tombstones of a loaded table: the rows the console deleted (none without the column). #}
{% macro deleted_rows(relation) %}
    {%- set deleted_at = deleted_at_column(relation) -%}
    select * from {{ relation }}
    where {% if deleted_at %}{{ adapter.quote(deleted_at) }} is not null{% else %}1 = 0{% endif %}
{% endmacro %}


{#
  The current rows of a table whose rows belong to a row of `parent` (an incident's events, a
  bird's services): a row goes with its parent's tombstone, since the tap cannot always send
  the children's own (it no longer knows a deleted incident's events). A row whose parent never
  landed stays, for a relationships test to report.
#}
{% macro current_rows_of_current_parents(relation, parent, key, parent_key='id') %}
    select child.*
    from ({{ current_rows(relation) }}) as child
    where not exists (
        select 1
        from ({{ deleted_rows(parent) }}) as deleted
        where deleted.console = child.console and deleted.{{ parent_key }} = child.{{ key }}
    )
{% endmacro %}
