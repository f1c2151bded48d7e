"""Page-number pagination with a client-chosen page size (capped).

A page size that is not a positive whole number is refused (400) rather than silently replaced by
the default, and a page number that is not one of the list's pages answers 404, as the schema says.
"""

from typing import Any

from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()  # "page=last" is not part of the API: a page is a number

    def get_page_size(self, request: Request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if not value:  # left out, or empty: the default, as for every parameter
            return self.page_size
        try:
            size = int(value)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["A positive whole number."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": force_str(self.page_query_description) + " (404 past the last page)",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}; above {self.max_page_size}, "
                f"{self.max_page_size})",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
