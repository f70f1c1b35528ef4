"""API representations of customers. Sensitive identity fields leave only masked."""

from rest_framework import serializers

from ..masking import mask_id_number, mask_phone
from ..models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    relationship_manager = serializers.SlugRelatedField(slug_field="username", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "customer_number",
            "customer_type",
            "name",
            "id_type",
            "id_number_masked",
            "phone_masked",
            "birth_date",
            "branch",
            "relationship_manager",
            "value_tier",
            "aum",
            "currency",
            "last_contact_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, customer: Customer) -> str:
        return mask_id_number(customer.id_number)

    def get_phone_masked(self, customer: Customer) -> str:
        return mask_phone(customer.phone)
