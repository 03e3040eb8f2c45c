{#- A count of people that must reach var min_group_size (docs/metrics.md section 11): the
    rows where it does not. Usage: data_tests: [at_least_min_group_size] on the column. -#}
{% test at_least_min_group_size(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < {{ var('min_group_size') }}

{% endtest %}
