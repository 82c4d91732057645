from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_model_status')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Provider',
            name='kind',
            field=fields.CharField(default='plugin', max_length=32),
        ),
    ]
