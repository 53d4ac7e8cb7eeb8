"""Posts keep whether their @mentions count; every tenant gets the ``forum_mentions`` flag.

Posts written before the flag had their mentions linked and emailed: they keep ``True``.
The flag is created off (neither on nor off for everyone, no percentage, nobody named): the
tenant's administrators roll it out in their admin.
"""

from django.db import migrations, models

FLAG = "forum_mentions"
NOTE = "Forum: @mentions in a member's posts link to the members mentioned and email them."


def create_flag(apps, schema_editor):
    Flag = apps.get_model("waffle", "Flag")
    Flag.objects.using(schema_editor.connection.alias).get_or_create(
        name=FLAG, defaults={"note": NOTE}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0002_moderation_queue"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
    ]

    operations = [
        migrations.AddField(
            model_name="reply",
            name="mentions",
            field=models.BooleanField(default=True, verbose_name="mentions"),
        ),
        migrations.AddField(
            model_name="topic",
            name="mentions",
            field=models.BooleanField(default=True, verbose_name="mentions"),
        ),
        migrations.RunPython(create_flag, migrations.RunPython.noop),
    ]
