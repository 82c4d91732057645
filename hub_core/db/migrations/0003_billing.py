from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

# The credits mode's four tables (credit_accounts, credit_grants, credit_holds, credit_ledger) were created
# here until the billing-credits plugin took them over: it creates them in its own app's first migration,
# which keeps the tables a database made by this migration already has (hub_billing_credits.migrations).


class Migration(migrations.Migration):
    dependencies = [('models', '0002_ui_sessions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModelRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=50)),
                ('model', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=20)),
                ('display_name', fields.CharField(null=True, max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('input_rate', fields.DecimalField(max_digits=24, decimal_places=12)),
                ('output_rate', fields.DecimalField(max_digits=24, decimal_places=12)),
                ('cache_read_rate', fields.DecimalField(null=True, max_digits=24, decimal_places=12)),
                ('cache_write_rate', fields.DecimalField(null=True, max_digits=24, decimal_places=12)),
                ('unit_cost_input', fields.DecimalField(null=True, max_digits=24, decimal_places=12)),
                ('unit_cost_output', fields.DecimalField(null=True, max_digits=24, decimal_places=12)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('deprecated', fields.BooleanField(default=False)),
                ('deprecated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deprecated_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'model_rates', 'app': 'models', 'unique_together': (('provider', 'model', 'kind'),), 'pk_attr': 'id', 'table_description': 'What a provider/model costs in credits, per kind of call, for every billing mode.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageRollup',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('period', fields.CharField(max_length=4)),
                ('bucket', fields.BigIntField()),
                ('user_id', fields.IntField(default=0)),
                ('app_did', fields.CharField(default='', max_length=200)),
                ('provider', fields.CharField(default='', max_length=50)),
                ('model', fields.CharField(default='', max_length=200)),
                ('kind', fields.CharField(default='', max_length=20)),
                ('calls', fields.BigIntField(default=0)),
                ('success_calls', fields.BigIntField(default=0)),
                ('failed_calls', fields.BigIntField(default=0)),
                ('aborted_calls', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('cached_tokens', fields.BigIntField(default=0)),
                ('cache_write_tokens', fields.BigIntField(default=0)),
                ('images', fields.BigIntField(default=0)),
                ('seconds', fields.FloatField(default=0)),
                ('credits', fields.BigIntField(default=0)),
                ('duration_ms_sum', fields.FloatField(default=0)),
                ('ttfb_ms_sum', fields.FloatField(default=0)),
                ('ttfb_count', fields.BigIntField(default=0)),
                ('last_call_at', fields.FloatField(default=0)),
            ],
            options={'table': 'usage_rollups', 'app': 'models', 'unique_together': (('period', 'bucket', 'user_id', 'app_did', 'provider', 'model', 'kind'),), 'pk_attr': 'id', 'table_description': 'Hourly and daily totals per user, app, provider, model and kind, updated with every usage-log batch.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ModelCall',
            name='credits',
            field=fields.BigIntField(default=0),
        ),
    ]
