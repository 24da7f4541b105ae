"""The embeddable widget: options, the view model, drawing, cheap version lookups, caches and its pages."""
