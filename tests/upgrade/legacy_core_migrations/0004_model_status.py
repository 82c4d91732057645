from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_billing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModelStatus',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=50)),
                ('model', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=20)),
                ('available', fields.BooleanField(default=True)),
                ('error_code', fields.CharField(null=True, max_length=64)),
                ('error', fields.TextField(null=True, unique=False)),
                ('response_ms', fields.FloatField(null=True)),
                ('checked_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'model_status', 'app': 'models', 'unique_together': (('provider', 'model', 'kind'),), 'pk_attr': 'id', 'table_description': 'Whether one model works at one provider, as the last call or check found it (routing.status).'},
            bases=['Model'],
        ),
    ]
