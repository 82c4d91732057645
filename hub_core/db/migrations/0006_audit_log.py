from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    # both 0005 leaves, so the graph joins again here
    dependencies = [('models', '0005_user_identities'), ('models', '0005_provider_kind')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=20)),
                ('actor_user_id', fields.IntField(null=True, db_index=True)),
                ('actor_name', fields.CharField(null=True, max_length=200)),
                ('actor_key_id', fields.IntField(null=True)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('target_type', fields.CharField(max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=200)),
                ('before', fields.JSONField(null=True)),
                ('after', fields.JSONField(null=True)),
                ('request_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_log', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One admin change: who made it, what it was and the record before and after (secrets masked).'},
            bases=['Model'],
        ),
    ]
