"""Takedown models: Complaint, ComplaintItem, Decision, CounterNotice, Strike arrive with issue 6."""
