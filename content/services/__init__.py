"""Every write to the catalogue, one module per concern: editing (create, update), workflow
(transitions), rights (who may edit or move an item), audit (the trail), media (uploads).

Workflow: draft -> in_review -> published -> archived. A reviewer sends an item back to draft with a
reason; a publisher unpublishes (back to draft) or archives. Rights are Django permissions held by the
groups "Editors" (add/change content, submit_content) and "Publishers" (change content,
publish_content); superusers hold every right. A refused action writes nothing, not even an audit row.

Import a service from the module that holds it.
"""
