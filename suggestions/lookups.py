"""`__in` on an integer column ignores values the column cannot hold.

Django already does this for `exact`, `gt`, `lt` … (an id of 30 digits matches nothing), but not
for `in`: `pk__in=[10**30]`, which every multiple choice of departments builds from what a browser
sent, makes SQLite raise OverflowError, a server error instead of "not a valid choice". Such a
value can match no row on any database, so leaving it out changes no result.
"""
from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [v for v in self.rhs if not isinstance(v, int) or (
                (low is None or v >= low) and (high is None or v <= high))]
        return super().process_rhs(compiler, connection)
