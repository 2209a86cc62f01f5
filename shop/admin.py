"""The admin site's titles: the shop's name, not "Django administration"."""

from django.contrib import admin

admin.site.site_header = "Obmen"
admin.site.site_title = "Obmen"
