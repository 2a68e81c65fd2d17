{#
  Selects the rows of a loaded table that still exist in the console.

  A loader that replicates deletions marks a deleted row with `_sdc_deleted_at` instead of
  removing it. The column only exists once a stream sends deletions, so the filter is added
  only when the relation has it: the same model works before and after.
#}
{% macro current_rows(relation) %}
    {%- set found = namespace(column=none) -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower == '_sdc_deleted_at' -%}
                {%- set found.column = column.name -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select * from {{ relation }}
    {%- if found.column %} where {{ adapter.quote(found.column) }} is null{% endif %}
{% endmacro %}
