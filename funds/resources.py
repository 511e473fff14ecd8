"""django-import-export resources for small reference tables."""

from import_export import resources

from funds.models import Program


class ProgramResource(resources.ModelResource):
    class Meta:
        model = Program
        import_id_fields = ["slug"]
        exclude = ["created_at"]
