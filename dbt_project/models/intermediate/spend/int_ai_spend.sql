{#- Every usage row of every provider, one row per token kind, priced and attributed
    (docs/metrics.md section 2). Incremental: each run rebuilds the days from
    `incremental_lookback_days` before the newest day already built (the loaders re-read that
    many days, so restated usage lands there); rows are replaced on spend_id. A run given the
    vars partition_start and partition_end (UTC dates, end exclusive), or the environment
    variables DBT_PARTITION_START and DBT_PARTITION_END (how the Dagster job passes a daily
    partition or a backfill's range: a changed var makes dbt parse the whole project again, a
    changed environment variable only this file), rebuilds exactly those days instead. A
    change to the api_keys, people or model_prices seeds needs a --full-refresh to reach older
    days. -#}
{{
    config(
        materialized='incremental',
        unique_key='spend_id',
        on_schema_change='fail',
        **incremental_strategy_config('delete+insert', partition_by='day'),
    )
}}

{%- set anthropic_kinds = [
    ('uncached_input', 'uncached_input_tokens'),
    ('cache_write_5m', 'cache_creation_5m_input_tokens'),
    ('cache_write_1h', 'cache_creation_1h_input_tokens'),
    ('cache_read', 'cache_read_input_tokens'),
    ('output', 'output_tokens'),
] %}
{#- OpenAI's input_tokens include the cached ones: the `input` kind is the uncached part,
    priced at the input price; `cached_input` at the cached price (as the costs report). -#}
{%- set openai_kinds = [
    ('input', 'coalesce(input_tokens, 0) - coalesce(input_cached_tokens, 0)'),
    ('cached_input', 'coalesce(input_cached_tokens, 0)'),
    ('output', 'coalesce(output_tokens, 0)'),
] %}

with

{% if is_incremental() %}
window_start as (

    {%- set partition_start = var('partition_start', none) or env_var('DBT_PARTITION_START', '') %}
    {%- set partition_end = var('partition_end', none) or env_var('DBT_PARTITION_END', '') %}
    {% if partition_start %}
    select
        cast('{{ partition_start }}' as date) as first_day,
        cast('{{ partition_end }}' as date) as end_day
    {% else %}
    -- An empty table (a first build before any usage) rebuilds everything.
    select
        coalesce(
            cast({{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(day)') }} as date),
            cast('1900-01-01' as date)
        ) as first_day,
        cast('9999-12-31' as date) as end_day
    from {{ this }}
    {% endif %}

),
{% endif %}

anthropic_usage as (

    select * from {{ ref('stg_anthropic__messages_usage') }}
    {% if is_incremental() %}
    where usage_date >= (select first_day from window_start)
        and usage_date < (select end_day from window_start)
    {% endif %}

),

openai_usage as (

    select * from {{ ref('stg_openai__completions_usage') }}
    {% if is_incremental() %}
    where usage_date >= (select first_day from window_start)
        and usage_date < (select end_day from window_start)
    {% endif %}

),

usage_tokens as (

    {% for kind, column in anthropic_kinds %}
    select
        'anthropic' as provider,
        usage_row_key,
        usage_date as day,
        model,
        api_key_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        workspace_id as workspace_or_project_id,
        '{{ kind }}' as token_kind,
        coalesce({{ column }}, 0) as tokens
    from anthropic_usage
    union all
    {% endfor %}
    {% for kind, expression in openai_kinds %}
    select
        'openai' as provider,
        usage_row_key,
        usage_date as day,
        model,
        api_key_id,
        user_id,
        project_id as workspace_or_project_id,
        '{{ kind }}' as token_kind,
        {{ expression }} as tokens
    from openai_usage
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

prices as (

    select * from {{ ref('model_prices') }}

),

price_changes as (

    -- The days on which a model's valid prices change: a price's first day, and the day
    -- after its last. Between two of them the same prices are valid all along.
    select
        provider,
        model,
        token_kind,
        cast(valid_from as date) as changed_on
    from prices
    union
    select
        provider,
        model,
        token_kind,
        cast({{ dbt.dateadd('day', 1, 'valid_to') }} as date) as changed_on
    from prices
    where valid_to is not null

),

price_spans as (

    select
        provider,
        model,
        token_kind,
        changed_on as span_from,
        lead(changed_on) over (
            partition by provider, model, token_kind
            order by changed_on
        ) as span_to
    from price_changes

),

span_prices as (

    -- The price of each span: of the prices valid in it (valid_to inclusive, open when null),
    -- the latest valid_from wins if they overlap. Ranked here, over the seed's few rows, the
    -- usage rows below only join: no window over every usage row.
    select
        price_spans.provider,
        price_spans.model,
        price_spans.token_kind,
        price_spans.span_from,
        price_spans.span_to,
        prices.usd_per_mtok,
        row_number() over (
            partition by
                price_spans.provider,
                price_spans.model,
                price_spans.token_kind,
                price_spans.span_from
            order by prices.valid_from desc
        ) as price_rank
    from price_spans
    inner join prices
        on price_spans.provider = prices.provider
            and price_spans.model = prices.model
            and price_spans.token_kind = prices.token_kind
            and price_spans.span_from >= prices.valid_from
            and (prices.valid_to is null or price_spans.span_from <= prices.valid_to)

),

priced as (

    -- The price valid on the day; none (a null price) when no price covers it.
    select
        usage_tokens.*,
        span_prices.usd_per_mtok
    from usage_tokens
    left join span_prices
        on usage_tokens.provider = span_prices.provider
            and usage_tokens.model = span_prices.model
            and usage_tokens.token_kind = span_prices.token_kind
            and span_prices.price_rank = 1
            and usage_tokens.day >= span_prices.span_from
            and (span_prices.span_to is null or usage_tokens.day < span_prices.span_to)

),

people as (

    select * from {{ ref('int_people') }}

),

person_emails as (

    select * from {{ ref('int_people__emails') }}

),

api_keys as (

    select
        provider,
        api_key_id,
        max(nullif(trim(person_id), '')) as key_person_id,
        max(nullif(trim(team), '')) as key_team_id
    from {{ ref('api_keys') }}
    where nullif(trim(api_key_id), '') is not null
    group by provider, api_key_id

),

openai_users as (

    select
        user_id,
        lower(trim(email)) as email
    from {{ ref('stg_openai__users') }}

),

user_people as (

    -- The usage row's user by email (case-insensitive), or a GitHub noreply address
    -- ID+login@users.noreply.github.com by login (docs/metrics.md section 1).
    select
        openai_users.user_id,
        coalesce(person_emails.person_id, noreply_people.person_id) as person_id
    from openai_users
    left join person_emails
        on openai_users.email = person_emails.email
    left join people as noreply_people
        on lower(noreply_people.github_login) = {{ noreply_github_login('openai_users.email') }}

),

resolved as (

    select
        priced.*,
        user_people.person_id as user_person_id,
        api_keys.key_person_id,
        api_keys.key_team_id
    from priced
    left join user_people
        on priced.provider = 'openai'
            and priced.user_id = user_people.user_id
    left join api_keys
        on priced.provider = api_keys.provider
            and priced.api_key_id = api_keys.api_key_id

),

attributed as (

    select
        resolved.*,
        coalesce(user_person_id, key_person_id) as person_id,
        case
            when user_person_id is not null then 'user_email'
            when key_person_id is not null then 'api_key'
            when key_team_id is not null then 'api_key_team'
            else 'unattributed'
        end as attributed_by
    from resolved

),

final as (

    select

        ----------  ids
        {{ dbt.hash(dbt.concat(["attributed.provider", "'|'", "attributed.usage_row_key", "'|'", "attributed.token_kind"])) }}
            as spend_id,
        attributed.usage_row_key,
        attributed.api_key_id,
        attributed.user_id,
        attributed.workspace_or_project_id,
        attributed.person_id,
        -- A person's team from the people seed; without a person, the key's team.
        case
            when attributed.person_id is not null then people.team_id
            else attributed.key_team_id
        end as team_id,

        ---------- dimensions (the day last, below)
        attributed.provider,
        attributed.model,
        attributed.token_kind,
        attributed.attributed_by,

        ---------- numerics
        cast(attributed.tokens as {{ dbt.type_bigint() }}) as tokens,
        attributed.usd_per_mtok,
        -- Exact: the factors' precisions add up to 38 digits, so no engine rounds the product
        -- (Spark cuts a product's scale to 6 when the sum exceeds 38).
        cast(
            cast(attributed.tokens as decimal(17, 0))
            * cast(attributed.usd_per_mtok as decimal(12, 4))
            * cast(0.000001 as decimal(7, 6))
            as decimal(38, 10)
        ) as cost_usd,

        ---------- partition (last: Spark keeps partition columns last)
        attributed.day

    from attributed
    left join people
        on attributed.person_id = people.person_id

)

select * from final
