"""The credits tables. A database whose core migration 0003_billing created them keeps them and their rows
(`CreateModelOnce`); a new database gets them here."""

from tortoise import migrations
import functools
from json import dumps, loads
from tortoise import fields

from hub_billing_credits.migrations._adopt import CreateModelOnce


class Migration(migrations.Migration):
    initial = True

    operations = [
        CreateModelOnce(
            name='CreditAccount',
            fields=[
                ('user_id', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('balance', fields.BigIntField(default=0)),
                ('held', fields.BigIntField(default=0)),
                ('credited', fields.BigIntField(default=0)),
                ('debited', fields.BigIntField(default=0)),
                ('version', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'credit_accounts', 'app': 'credits', 'pk_attr': 'user_id', 'table_description': 'Credits of one user: balance is the sum of the ledger, held is reserved by calls in flight.'},
            bases=['Model'],
        ),
        CreateModelOnce(
            name='CreditGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('source', fields.CharField(max_length=16)),
                ('amount', fields.BigIntField()),
                ('remaining', fields.BigIntField()),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('expired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'credit_grants', 'app': 'credits', 'pk_attr': 'id', 'table_description': 'A lot of credits that may expire. Charges use the lots that expire first.'},
            bases=['Model'],
        ),
        CreateModelOnce(
            name='CreditHold',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('user_id', fields.IntField(db_index=True)),
                ('amount', fields.BigIntField()),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_holds', 'app': 'credits', 'pk_attr': 'id', 'table_description': 'Credits reserved by one call in flight, deleted when the call settles.'},
            bases=['Model'],
        ),
        CreateModelOnce(
            name='CreditLedger',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('amount', fields.BigIntField()),
                ('balance_after', fields.BigIntField()),
                ('reason', fields.CharField(null=True, max_length=500)),
                ('actor_user_id', fields.IntField(null=True)),
                ('call_id', fields.CharField(null=True, db_index=True, max_length=64)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('grant_id', fields.IntField(null=True)),
                ('idempotency_key', fields.CharField(null=True, unique=True, max_length=200)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_ledger', 'app': 'credits', 'pk_attr': 'id', 'table_description': 'Append-only: every change of a balance, with its reason and the admin, payment or call behind it.'},
            bases=['Model'],
        ),
    ]
