{#- The columns together identify a row (nulls compare equal, unlike a concatenated key).
    Usage on a model: data_tests: [{unique_key: {columns: [day, provider, model]}}] -#}
{% test unique_key(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
