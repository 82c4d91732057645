from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='HubState',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('value', fields.TextField(unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'hub_state', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Small key/value facts shared by every hub instance, e.g. the config generation counter.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModelCall',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request_id', fields.CharField(db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('user_id', fields.IntField(null=True, db_index=True)),
                ('key_id', fields.IntField(null=True)),
                ('app_did', fields.CharField(null=True, db_index=True, max_length=200)),
                ('endpoint', fields.CharField(max_length=100)),
                ('kind', fields.CharField(max_length=20)),
                ('model', fields.CharField(max_length=200)),
                ('provider', fields.CharField(null=True, max_length=50)),
                ('provider_id', fields.IntField(null=True)),
                ('upstream_model', fields.CharField(null=True, max_length=200)),
                ('credential_id', fields.IntField(null=True)),
                ('stream', fields.BooleanField(default=False)),
                ('status', fields.CharField(max_length=16)),
                ('http_status', fields.IntField(default=200)),
                ('error', fields.TextField(null=True, unique=False)),
                ('input_tokens', fields.IntField(default=0)),
                ('output_tokens', fields.IntField(default=0)),
                ('cached_tokens', fields.IntField(default=0)),
                ('cache_write_tokens', fields.IntField(default=0)),
                ('reasoning_tokens', fields.IntField(default=0)),
                ('images', fields.IntField(default=0)),
                ('seconds', fields.FloatField(default=0)),
                ('duration_ms', fields.FloatField(default=0)),
                ('ttfb_ms', fields.FloatField(null=True)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'model_calls', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row per routed call: the usage log.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PluginState',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'plugin_state', 'app': 'models', 'pk_attr': 'name'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Provider',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=50)),
                ('display_name', fields.CharField(max_length=100)),
                ('base_url', fields.CharField(null=True, max_length=500)),
                ('region', fields.CharField(null=True, max_length=50)),
                ('enabled', fields.BooleanField(default=True)),
                ('config', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'providers', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Credential',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.ForeignKeyField('models.Provider', source_field='provider_id', db_constraint=True, to_field='id', related_name='credentials', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('credential_type', fields.CharField(default='api_key', max_length=32)),
                ('ciphertext', fields.TextField(unique=False)),
                ('masked', fields.CharField(max_length=200)),
                ('weight', fields.IntField(default=100)),
                ('active', fields.BooleanField(default=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('usage_count', fields.BigIntField(default=0)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'credentials', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('did', fields.CharField(unique=True, max_length=100)),
                ('name', fields.CharField(max_length=200)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('role', fields.CharField(default='member', max_length=16)),
                ('disabled', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccessKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='access_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('prefix', fields.CharField(max_length=20)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('role', fields.CharField(default='member', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_keys', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
