{#
  JSON helpers that read the same on DuckDB and PostgreSQL.

  target-postgres stores a missing object as the JSON value `null`; target-duckdb stores SQL
  NULL. `json_or_null` turns both into SQL NULL, so `extra is null` means "nothing there".
#}
{% macro json_or_null(column) %}{{ return(adapter.dispatch('json_or_null', 'canary')(column)) }}{% endmacro %}

{% macro default__json_or_null(column) -%}
    nullif({{ column }}, 'null'::jsonb)
{%- endmacro %}

{% macro duckdb__json_or_null(column) -%}
    case when json_type({{ column }}) = 'NULL' then null else {{ column }} end
{%- endmacro %}


{# The text of one top-level key of a JSON object. #}
{% macro json_text(column, key) %}{{ return(adapter.dispatch('json_text', 'canary')(column, key)) }}{% endmacro %}

{% macro default__json_text(column, key) -%}
    ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}


{#
  A JSON object from (key, SQL expression) pairs, in order. Keys whose value is NULL are left
  out, as OCSF expects of an attribute with no value.
#}
{% macro json_object(pairs) %}{{ return(adapter.dispatch('json_object', 'canary')(pairs)) }}{% endmacro %}

{% macro default__json_object(pairs) -%}
    jsonb_strip_nulls(jsonb_build_object(
        {%- for key, value in pairs %}
        '{{ key }}', {{ value }}{{ "," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}

{% macro duckdb__json_object(pairs) -%}
    json_merge_patch('{}', json_object(
        {%- for key, value in pairs %}
        '{{ key }}', {{ value }}{{ "," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}


{# A JSON array of the given SQL expressions. #}
{% macro json_array(values) %}{{ return(adapter.dispatch('json_array', 'canary')(values)) }}{% endmacro %}

{% macro default__json_array(values) -%}
    jsonb_build_array({{ values | join(', ') }})
{%- endmacro %}

{% macro duckdb__json_array(values) -%}
    json_array({{ values | join(', ') }})
{%- endmacro %}


{# One top-level key of a JSON object, as JSON. #}
{% macro json_value(column, key) %}{{ return(adapter.dispatch('json_value', 'canary')(column, key)) }}{% endmacro %}

{% macro default__json_value(column, key) -%}
    ({{ column }} -> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_value(column, key) -%}
    json_extract({{ column }}, '$.{{ key }}')
{%- endmacro %}
