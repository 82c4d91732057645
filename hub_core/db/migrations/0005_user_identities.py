from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_model_status')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UserIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('issuer', fields.CharField(max_length=200)),
                ('subject', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user_identities', 'app': 'models', 'unique_together': (('issuer', 'subject'),), 'pk_attr': 'id', 'table_description': "An external identity (an auth plugin's issuer and subject, e.g. a JWT's ``iss`` and ``sub``) mapped to\na hub user, so one person signs in through any of their identities (`hub_core.admin.directory`)."},
            bases=['Model'],
        ),
    ]
