"""Segmentation results. The scoring run and its history arrive with the segmentation issue;
until then the current tier is the system-generated `Customer.value_tier`."""
